import { readFileSync } from "node:fs";

/** Home page written into each RPM's URL tag and the service unit. */
export const PROJECT_URL = "https://www.npmjs.com/package/@osad2/client";

/** This package's version (the RPM version of every client package it builds); read once from package.json. */
export const PACKAGER_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
