import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TempDirs } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import { LogRateLimiter, RepeatedLineFilter, createLogger } from "../src/index.js";

const dirs = new TempDirs("osad2-kit-rate-");
afterEach(() => dirs.removeAll());

describe("LogRateLimiter", () => {
  it("lets max events through per window; the next one passing carries the count held back", () => {
    let now = 0;
    const limiter = new LogRateLimiter(2, 1000, () => now);
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([
      { log: true, suppressed: 0 },
      { log: true, suppressed: 0 },
      { log: false, suppressed: 0 },
      { log: false, suppressed: 0 },
    ]);
    now = 1000;
    expect(limiter.take()).toEqual({ log: true, suppressed: 2 });
  });
});

describe("RepeatedLineFilter", () => {
  it("limits each message and all messages together, and reports what it held", () => {
    let now = 0;
    const filter = new RepeatedLineFilter({ perMessage: 2, total: 3, windowMs: 1000 }, () => now);
    const passed = ["a", "a", "a", "b", "b", "c"].map((m) => filter.admit(m).log);
    expect(passed).toEqual([true, true, false, true, false, false]);
    expect(filter.pending()).toEqual([
      { message: "a", suppressed: 1 },
      { message: "b", suppressed: 1 },
      { message: "c", suppressed: 1 },
    ]);
    now = 1000;
    expect(filter.admit("a")).toEqual({ log: true, suppressed: 0 });
    filter.admit("a");
    filter.admit("a");
    now = 2000;
    expect(filter.admit("a")).toEqual({ log: true, suppressed: 1 });
  });
});

describe("createLogger with repeatLimits", () => {
  it("writes a flood of 100,000 identical lines as a few lines saying how many were held back", async () => {
    const file = join(await dirs.make(), "flood.log");
    const log = createLogger({ name: "osad2-test", file, repeatLimits: { windowMs: 60_000 } });
    for (let n = 0; n < 100_000; n += 1) log.logger.info({ n }, "checkin requested by the server");
    log.logger.warn("something else");
    log.logger.fatal("fatal lines always pass");
    log.flush();
    const text = await readFile(file, "utf8");
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === "checkin requested by the server")).toHaveLength(20);
    expect(lines.map((l) => l.msg)).toContain("something else");
    expect(lines.map((l) => l.msg)).toContain("fatal lines always pass");
    expect(text.length).toBeLessThan(10_000);
  });
});
