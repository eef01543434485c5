// Build-time entry (dist/bundling.js) for scripts/bundle-client.mjs: the same code serverrpm runs.
export {
  collectLicenses,
  copyProjectLicense,
  isOwnPackage,
  licenseExpression,
  packageDirOf,
  readPackageJson,
  sortBundled,
} from "./licenses.js";
export { fixTree } from "./tree.js";
export { libcNeeds } from "./elf.js";
export { stageCliDocs } from "./cli-docs.js";
export { bundleZeromq } from "./zeromq.js";
