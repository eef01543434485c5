// The notifying role's lock and coordinator against the machine's real PostgreSQL: two
// coordinators (as two servers would hold them) on one schema, faults made with
// pg_terminate_backend on the holder's lock session.
import { createTestSchema, type TestSchema, waitFor } from "@osad2/test-helpers";
import { silentLogger } from "@osad2/service-kit";
import { afterEach, describe, expect, it } from "vitest";
import { parseDatabaseUrl } from "../src/db/url.js";
import {
  type NotifyingRole,
  RoleCoordinator,
  type ServerRole,
} from "../src/failover/coordinator.js";
import { PostgresRoleLock, ROLE_LOCK_CLASS_ID } from "../src/failover/role-lock.js";

const schemas: TestSchema[] = [];
const coordinators: RoleCoordinator[] = [];
const locks: PostgresRoleLock[] = [];
afterEach(async () => {
  await Promise.all(coordinators.splice(0).map((c) => c.stop()));
  await Promise.all(locks.splice(0).map((l) => l.release()));
  await Promise.all(schemas.splice(0).map((s) => s.drop()));
});

async function schema(): Promise<TestSchema> {
  const s = await createTestSchema("osad2_fo_");
  schemas.push(s);
  return s;
}

function lockOn(s: TestSchema): PostgresRoleLock {
  const target = parseDatabaseUrl(s.url);
  if (target.kind !== "postgres") throw new Error("not postgres");
  const lock = new PostgresRoleLock(target, { schema: s.schema });
  locks.push(lock);
  return lock;
}

/** Ends the session holding this schema's role lock, as an administrator (or a crash) would. */
async function terminateHolder(s: TestSchema): Promise<number> {
  const rows = await s.query<{ ok: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
      WHERE locktype = 'advisory' AND classid = $1::int::oid AND granted
        AND objid = (hashtext($2)::bigint & 4294967295)::oid`,
    [ROLE_LOCK_CLASS_ID, s.schema],
  );
  return rows.length;
}

/** A NotifyingRole that records when it was switched, and what the other side's lease said then. */
class RecordingRole implements NotifyingRole {
  readonly events: {
    readonly role: ServerRole;
    readonly at: number;
    readonly otherMayNotify: boolean;
  }[] = [];
  other: RoleCoordinator | undefined;
  async becomeActive(): Promise<void> {
    this.events.push({
      role: "active",
      at: Date.now(),
      otherMayNotify: this.other?.mayNotify() ?? false,
    });
  }
  async becomeStandby(): Promise<void> {
    this.events.push({
      role: "standby",
      at: Date.now(),
      otherMayNotify: this.other?.mayNotify() ?? false,
    });
  }
}

function coordinator(lock: PostgresRoleLock, role: RecordingRole): RoleCoordinator {
  const c = new RoleCoordinator({
    lock,
    role,
    report: { roleChanged: () => undefined },
    logger: silentLogger(),
    pollMs: 200,
  });
  coordinators.push(c);
  return c;
}

describe("the notifying role's PostgreSQL advisory lock", () => {
  it("is held by one session per schema; released, the other gets it", async () => {
    const s = await schema();
    const a = lockOn(s);
    const b = lockOn(s);
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect(await a.verify()).toBe(true);
    expect(await b.verify()).toBe(false);
    // Another schema (another osad2 installation in the same database) has its own role.
    const other = lockOn(await schema());
    expect(await other.tryAcquire()).toBe(true);
    await a.release();
    expect(await b.tryAcquire()).toBe(true);
  });

  it("reports the loss the moment the holder's session is terminated", async () => {
    const s = await schema();
    const a = lockOn(s);
    const lost: string[] = [];
    a.onLost((reason) => lost.push(reason));
    expect(await a.tryAcquire()).toBe(true);
    expect(await terminateHolder(s)).toBe(1);
    await waitFor("the loss reported", () => lost.length > 0, { timeoutMs: 5_000 });
    expect(await a.verify()).toBe(false);
    // The next attempt opens a new session and takes it again (nobody else wants it).
    expect(await a.tryAcquire()).toBe(true);
  });
});

describe("RoleCoordinator: one active, the others standing by", () => {
  it("hands over when the holder's lock session dies, fencing the old holder first", async () => {
    const s = await schema();
    const roleA = new RecordingRole();
    const roleB = new RecordingRole();
    const a = coordinator(lockOn(s), roleA);
    const b = coordinator(lockOn(s), roleB);
    roleA.other = b;
    roleB.other = a;
    await a.start();
    await b.start();
    expect([a.role, b.role]).toEqual(["active", "standby"]);
    expect(a.mayNotify()).toBe(true);
    expect(b.mayNotify()).toBe(false);

    await terminateHolder(s);
    await waitFor("B taking over", () => b.role === "active", { timeoutMs: 5_000 });
    await waitFor("A standing by", () => roleA.events.some((e) => e.role === "standby"), {
      timeoutMs: 5_000,
    });
    // When B became active, A's lease no longer let it notify.
    const bActive = roleB.events.find((e) => e.role === "active");
    expect(bActive?.otherMayNotify).toBe(false);
    expect(a.role).toBe("standby");

    // A clean stop of the holder hands the role back.
    await b.stop();
    await waitFor("A taking over again", () => a.role === "active", { timeoutMs: 5_000 });
    expect(roleA.events.map((e) => e.role)).toEqual(["active", "standby", "active"]);
  });

  it("a standby started first becomes active at once; a later one waits", async () => {
    const s = await schema();
    const first = coordinator(lockOn(s), new RecordingRole());
    await first.start();
    expect(first.role).toBe("active");
    const second = coordinator(lockOn(s), new RecordingRole());
    await second.start();
    expect(second.role).toBe("standby");
  });

  it("gives the role up again when taking it fails (a port in use), so another server can", async () => {
    const s = await schema();
    const failing: NotifyingRole = {
      becomeActive: () => Promise.reject(new Error("EADDRINUSE")),
      becomeStandby: () => Promise.resolve(),
    };
    const bad = new RoleCoordinator({
      lock: lockOn(s),
      role: failing,
      report: { roleChanged: () => undefined },
      logger: silentLogger(),
      pollMs: 60_000,
    });
    coordinators.push(bad);
    await bad.start();
    expect(bad.role).toBe("standby");
    const good = coordinator(lockOn(s), new RecordingRole());
    await good.start();
    expect(good.role).toBe("active");
  });
});
