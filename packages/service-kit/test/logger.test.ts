import { TempDirs } from "@osad2/test-helpers";
import { readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LOG_DIR_MODE, LOG_FILE_MODE, createLogger, silentLogger } from "../src/index.js";

const dirs = new TempDirs("osad2-kit-log-");
afterEach(() => dirs.removeAll());

async function lines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("createLogger", () => {
  it("writes JSON lines to a file it creates 0640 in dirs it creates 0750, whatever the umask", async () => {
    const dir = await dirs.make();
    const file = join(dir, "log", "deeper", "osad2-test.log");
    const old = process.umask(0o000);
    let log: ReturnType<typeof createLogger>;
    try {
      log = createLogger({ name: "osad2-test", file });
    } finally {
      process.umask(old);
    }
    log.logger.info({ answer: 42 }, "hello");
    log.logger.debug("not at info level");
    log.flush();
    expect((await stat(file)).mode & 0o777).toBe(LOG_FILE_MODE);
    expect((await stat(join(dir, "log", "deeper"))).mode & 0o777).toBe(LOG_DIR_MODE);
    expect(await lines(file)).toEqual([
      expect.objectContaining({
        name: "osad2-test",
        pid: process.pid,
        answer: 42,
        msg: "hello",
        level: 30,
      }),
    ]);
  });

  it("logs debug when asked and reopens the file after logrotate moved it", async () => {
    const dir = await dirs.make();
    const file = join(dir, "osad2-test.log");
    const log = createLogger({ name: "osad2-test", file, debug: true });
    log.logger.debug("before");
    log.flush();
    await rename(file, `${file}.1`);
    log.reopen();
    log.logger.info("after");
    log.flush();
    expect((await lines(`${file}.1`)).map((l) => l.msg)).toEqual(["before"]);
    expect((await lines(file)).map((l) => l.msg)).toEqual(["after"]);
    expect((await stat(file)).mode & 0o777).toBe(LOG_FILE_MODE);
  });

  it("has a silent logger for libraries used on their own", () => {
    expect(silentLogger().level).toBe("silent");
  });
});
