import { readFileSync } from "node:fs";

/** Home page written into each RPM's URL tag and the service unit. */
export const PROJECT_URL = "https://www.npmjs.com/package/@osad2/client";

/** This package's version (the RPM version of every client package it builds); read once from package.json. */
export const PACKAGER_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/**
 * The server's (and a proxy's) proxy_port default, where proxies connect: @osad2/protocol's
 * DEFAULT_PROXY_PORT (a test holds the two together; the packager does not depend on protocol).
 */
export const DEFAULT_PROXY_PORT = 5558;
/** A proxy's listener_port default, where systems connect: the server's ROUTER port, 5556. */
export const DEFAULT_PROXY_LISTENER_PORT = 5556;
