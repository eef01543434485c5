// Filled in by its own issue; the package exists so the workspace builds and publishes as a whole.
export const PACKAGE_NAME = "@osad2/server";
