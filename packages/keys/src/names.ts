import { InvalidKeyNameError } from "./errors.js";

const KEY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** Key names are file names: `[A-Za-z0-9._-]{1,64}`, not starting with "." (no hidden files, no `..`). */
export function isValidKeyName(name: unknown): name is string {
  return typeof name === "string" && KEY_NAME.test(name);
}

/** @throws {InvalidKeyNameError} */
export function assertKeyName(name: string): void {
  if (!isValidKeyName(name)) throw new InvalidKeyNameError(String(name));
}
