import { createRequire } from "node:module";

// src/ and dist/ both sit one level below package.json, so this path works before and after bundling.
const pkg = createRequire(import.meta.url)("../package.json") as { version: string };

/** This package's version, sent in the hello (e.g. "0.1.0"). */
export const CLIENT_VERSION: string = pkg.version;
