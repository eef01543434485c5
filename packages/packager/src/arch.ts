/** RPM architectures the bundled client ships a zeromq addon for. */
export type RpmArch = "x86_64" | "aarch64";

/** Node's `process.arch` → RPM's name; zeromq publishes linux prebuilds for exactly these two. */
const NODE_TO_RPM: Readonly<Record<string, RpmArch>> = { x64: "x86_64", arm64: "aarch64" };

/** RPM architecture for a Node (`x64`) or RPM (`x86_64`) spelling, or undefined when unsupported. */
export function rpmArchFor(arch: string): RpmArch | undefined {
  if (arch === "x86_64" || arch === "aarch64") return arch;
  return NODE_TO_RPM[arch];
}

/** Node's `process.arch` spelling of an RPM architecture (zeromq's build tree uses it). */
export function nodeArchFor(arch: RpmArch): string {
  return arch === "x86_64" ? "x64" : "arm64";
}
