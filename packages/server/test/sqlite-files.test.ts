import { spawn } from "node:child_process";
import { chmod, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TempDirs, caught, waitFor } from "@osad2/test-helpers";
import { openStore } from "../src/db/index.js";
import { DatabaseWritesFailingError } from "../src/db/errors.js";

const dirs = new TempDirs("osad2-sqlite-");
afterEach(() => dirs.removeAll());

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

/** Another process takes SQLite's write lock and keeps it until it is killed. */
async function holdWriteLock(file: string): Promise<{ release(): Promise<void> }> {
  const script = `
    const db = new (require("better-sqlite3"))(${JSON.stringify(file)});
    db.exec("BEGIN IMMEDIATE");
    db.exec("UPDATE rhnpushclient SET name = name");
    console.log("locked");
    process.on("SIGTERM", () => { db.exec("COMMIT"); db.close(); process.exit(0); });
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", script], {
    cwd: process.cwd(),
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
    child.on("exit", (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return {
    release: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The longest gap between 10 ms timer ticks while it runs: how long the loop was frozen. */
function watchLoopLag(): { stop(): number } {
  let last = Date.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return worst;
    },
  };
}

describe("the standalone SQLite database's files", () => {
  it("are 0600 (with -wal and -shm) in a 0700 directory osad2 creates, under umask 000", async () => {
    const dir = join(await dirs.make(), "var", "lib", "osad2");
    const file = join(dir, "osad2.db");
    const old = process.umask(0o000);
    let store;
    try {
      store = await openStore(`sqlite:${file}`);
      await store.prepare();
      await store.markOffline(["nobody"]);
    } finally {
      process.umask(old);
    }
    try {
      expect(await modeOf(dir)).toBe(0o700);
      expect(await modeOf(join(dir, ".."))).toBe(0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(await modeOf(f)).toBe(0o600);
    } finally {
      await store.close();
    }
  });

  it("tightens an existing 0644 database to 0600 when it opens it", async () => {
    const dir = await dirs.make();
    const file = join(dir, "osad2.db");
    await writeFile(file, "");
    await chmod(file, 0o644);
    const store = await openStore(`sqlite:${file}`);
    try {
      await store.prepare();
      expect(await modeOf(file)).toBe(0o600);
    } finally {
      await store.close();
    }
  });
});

describe("a SQLite database another process keeps locked", () => {
  it("never freezes the event loop, says degraded within a second, and the write goes through after", async () => {
    const file = join(await dirs.make(), "osad2.db");
    const store = await openStore(`sqlite:${file}`);
    try {
      await store.prepare();
      await store.healthCheck();
      const holder = await holdWriteLock(file);
      const lag = watchLoopLag();
      let written = false;
      const write = store.markOffline(["web01"]).then(() => (written = true));
      await waitFor("health to report the lock", async () => {
        const startedAt = Date.now();
        const error = await caught(() => store.healthCheck());
        expect(Date.now() - startedAt).toBeLessThan(1000);
        return error instanceof DatabaseWritesFailingError && error.kind === "locked";
      });
      const error = await caught(() => store.healthCheck());
      expect((error as Error).message).toMatch(/degraded: another process has held its write lock/);
      // Held for 1.5 s more: the old 5 s busy_timeout froze the loop for the whole time.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(written).toBe(false);
      await holder.release();
      await write;
      expect(lag.stop()).toBeLessThan(250);
      await store.healthCheck();
    } finally {
      await store.close();
    }
  });
});
