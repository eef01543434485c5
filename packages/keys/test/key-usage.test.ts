import { stat, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { caught, TempDirs } from "@osad2/test-helpers";
import {
  KeyUsageFileError,
  keyUsagePath,
  readKeyUsage,
  writeKeyUsage,
  type KeyUsage,
} from "../src/index.js";

const dirs = new TempDirs("osad2-keys-usage-");
afterEach(() => dirs.removeAll());

const web01: KeyUsage = {
  serverId: 1000010000,
  profileName: "web01.example.com",
  clientName: "a1b2c3",
  address: "10.0.0.5",
  firstSeen: "2026-12-01T10:00:00.000Z",
  lastSeen: "2026-12-02T04:00:00.000Z",
};

describe("key-usage file", () => {
  it("a missing file reads as nothing seen yet", async () => {
    expect((await readKeyUsage(keyUsagePath(await dirs.make()))).size).toBe(0);
  });

  it("round-trips, written 0640 whatever the umask", async () => {
    const path = keyUsagePath(await dirs.make());
    const previous = process.umask(0o000);
    try {
      await writeKeyUsage(
        path,
        new Map([
          ["web01", web01],
          ["db01", { ...web01, serverId: null }],
        ]),
      );
    } finally {
      process.umask(previous);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    const read = await readKeyUsage(path);
    expect([...read.keys()]).toEqual(["db01", "web01"]);
    expect(read.get("web01")).toEqual(web01);
    expect(read.get("db01")?.serverId).toBeNull();
  });

  it.each([
    ["not JSON", "{", /is not JSON/],
    ["another version", '{"version":2,"keys":{}}', /version 2/],
    ["keys not an object", '{"version":1,"keys":[]}', /"keys" is not an object/],
    ["a bad key name", '{"version":1,"keys":{"../x":{}}}', /entry "..\/x" is malformed/],
    [
      "a bad time",
      JSON.stringify({ version: 1, keys: { web01: { ...web01, lastSeen: "yesterday" } } }),
      /entry "web01" is malformed/,
    ],
  ])("refuses %s, naming the file", async (_what, text, message) => {
    const path = keyUsagePath(await dirs.make());
    await writeFile(path, text);
    const error = await caught(() => readKeyUsage(path));
    expect(error).toBeInstanceOf(KeyUsageFileError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(message);
  });
});
