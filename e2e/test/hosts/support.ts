// Whether this machine lets the test build its own hosts: creating a network namespace needs
// root (CAP_SYS_ADMIN) and a kernel and container that allow it. When it cannot, the suite
// says so — a marker next to the e2e report that tools/lib/sum-results.mjs prints as
// "across-hosts: NOT RUN — <reason>" — and its tests are skipped, never passed.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { ipSync } from "./ip.js";

export type NetnsSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Tries `ip netns add` (and delete) of a throw-away name; the reason when it cannot. */
export function probeNetns(): NetnsSupport {
  const name = `osad2probe-${process.pid}-${randomBytes(2).toString("hex")}`;
  try {
    ipSync(["netns", "add", name]);
  } catch (error) {
    return { ok: false, reason: (error as Error).message }; // "ip netns add … failed: why"
  }
  try {
    ipSync(["netns", "del", name]);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  return { ok: true };
}

/** e2e/dist-test/not-run/: one file per suite that could not run, its text the reason. */
const NOT_RUN_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../dist-test/not-run",
);

/**
 * Probes once and records the outcome for `suite` (e.g. "across-hosts"): the reason file when
 * namespaces are unavailable, no file when they are.
 */
export function netnsSupportFor(suite: string): NetnsSupport {
  const support = probeNetns();
  const marker = path.join(NOT_RUN_DIR, `${suite}.txt`);
  if (support.ok) {
    fs.rmSync(marker, { force: true });
  } else {
    fs.mkdirSync(NOT_RUN_DIR, { recursive: true });
    fs.writeFileSync(marker, `${support.reason}\n`);
    console.warn(`${suite}: NOT RUN — ${support.reason}`);
  }
  return support;
}
