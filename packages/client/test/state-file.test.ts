import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { STATE_FILE_MODE } from "../src/index.js";
import { writeStateFile, type ClientStatus } from "../src/state.js";
import { cleanupTempDirs, tempDir } from "./helpers.js";

afterEach(cleanupTempDirs);

describe("writeStateFile", () => {
  it("writes 0640 in 0750 directories it creates, even under umask 000", async () => {
    const root = await tempDir();
    const path = join(root, "lib", "osad2", "state.json");
    const old = process.umask(0o000);
    try {
      await writeStateFile(path, {
        state: "starting",
        pid: process.pid,
      } as unknown as ClientStatus);
    } finally {
      process.umask(old);
    }
    expect(STATE_FILE_MODE).toBe(0o640);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect((await stat(join(root, "lib", "osad2"))).mode & 0o777).toBe(0o750);
    expect((await stat(join(root, "lib"))).mode & 0o777).toBe(0o750);
  });
});
