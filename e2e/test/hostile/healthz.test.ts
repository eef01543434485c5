// /healthz tells the truth about the real server process. The landed build answered 200 while
// every database write failed (disk full) and while public_keys/ was missing, because it only
// ran `select 1`. Now: 503 naming the cause, and 200 again once the cause is gone.
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TempDirs, waitFor } from "@osad2/test-helpers";
import { Deployment } from "@osad2/testkit";

const dirs = new TempDirs("osad2-e2e-healthz-");
let d: Deployment | undefined;
const mounts: string[] = [];
afterEach(async () => {
  await d?.dispose();
  d = undefined;
  for (const mount of mounts.splice(0)) execFileSync("umount", [mount]);
  await dirs.removeAll();
});

interface Health {
  readonly status: number;
  readonly body: {
    readonly db: { readonly state: string; readonly error?: string };
    readonly keys: { readonly ok: boolean; readonly error?: string };
  };
}

async function healthz(dep: Deployment): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${dep.ports.metrics}/healthz`, {
    signal: AbortSignal.timeout(3_000),
  });
  return { status: res.status, body: (await res.json()) as Health["body"] };
}

async function until(dep: Deployment, what: string, test: (h: Health) => boolean): Promise<Health> {
  let last: Health | undefined;
  await waitFor(
    what,
    async () => {
      last = await healthz(dep);
      return test(last);
    },
    { timeoutMs: 20_000, everyMs: 200 },
  );
  if (last === undefined) throw new Error("no /healthz answer");
  return last;
}

/** Writes zeros into `file` until the file system says ENOSPC. */
async function fillDisk(file: string): Promise<void> {
  const handle = await fs.open(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    await handle.close();
  }
}

describe("/healthz", () => {
  it("is 503 while the SQLite disk is full, naming it, and 200 once space is back", async () => {
    // Never a silent skip: a full disk needs a real tmpfs, and mounting one needs root.
    if (process.getuid?.() !== 0) {
      throw new Error("needs root to mount a tmpfs: run tools/test as root, as CI does");
    }
    const mount = await dirs.make();
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mount]);
    mounts.push(mount);
    // last_message_refresh 1 s: the online client's last_message_time is written every round.
    const dep = (d = await Deployment.create({
      database: "sqlite",
      dir: path.join(mount, "d"),
      serverConfig: { last_message_refresh: 1 },
    }));
    await dep.init();
    await dep.addSystem("web01");
    await dep.startServer();
    dep.startClient("web01");
    await dep.waitOnline("web01");
    expect((await healthz(dep)).status).toBe(200);

    const filler = path.join(mount, "filler");
    await fillDisk(filler);
    // Each ping round refreshes the client's last_message_time: the next one fails.
    const full = await until(dep, "503 for the full disk", (h) => h.status === 503);
    expect(full.body.db.state).toBe("degraded");
    expect(full.body.db.error).toMatch(/writes have failed.*full/i);

    await fs.rm(filler);
    await until(dep, "200 once space is back", (h) => h.status === 200);
  });

  it("is 503 while PostgreSQL refuses writes (disk_full) and 200 after", async () => {
    const dep = (d = await Deployment.create({
      database: "postgres",
      serverConfig: { last_message_refresh: 1 },
    }));
    await dep.init();
    await dep.addSystem("web01");
    await dep.startServer();
    dep.startClient("web01");
    await dep.waitOnline("web01");
    // What PostgreSQL answers when it cannot extend a file: SQLSTATE 53100 disk_full.
    await dep.sql(`CREATE FUNCTION osad2_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$`);
    await dep.sql(
      "CREATE TRIGGER osad2_test_disk_full BEFORE UPDATE ON rhnpushclient FOR EACH ROW EXECUTE FUNCTION osad2_test_disk_full()",
    );
    const full = await until(dep, "503 while writes fail", (h) => h.status === 503);
    expect(full.body.db.state).toBe("degraded");
    expect(full.body.db.error).toMatch(/No space left on device/);

    await dep.sql("DROP TRIGGER osad2_test_disk_full ON rhnpushclient");
    await until(dep, "200 once writes go through", (h) => h.status === 200);
  });

  it("is 503 naming the key store when public_keys/ is removed", async () => {
    const dep = (d = await Deployment.create({ database: "sqlite" }));
    await dep.init();
    await dep.startServer();
    expect((await healthz(dep)).status).toBe(200);
    await fs.rm(path.join(dep.certificates, "public_keys"), { recursive: true });
    const missing = await until(dep, "503 for the missing key store", (h) => h.status === 503);
    expect(missing.body.keys.ok).toBe(false);
    expect(missing.body.keys.error).toMatch(/public_keys.*ENOENT|public_keys.*no such/i);
  });
});
