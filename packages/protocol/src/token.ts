import { randomBytes } from "node:crypto";

/** A fresh ping token: 16 hex chars, unguessable so a stale echo cannot pass for a new one. */
export function newPingToken(): string {
  return randomBytes(8).toString("hex");
}
