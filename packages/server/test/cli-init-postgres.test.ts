import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../src/db/index.js";
import { createSystem, scheduleAction } from "../src/testing/index.js";
import {
  createTestDatabase,
  freePorts,
  tempDir,
  waitFor,
  type TempDir,
  type TestDatabase,
} from "@osad2/test-helpers";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const TRIGGER = "osad2_server_action_notify";
const FUNCTION = "osad2_notify_server_action";

async function cli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stdout, stderr };
}

/**
 * Everything a schema holds, as text: tables and columns, indexes, constraints, sequences,
 * triggers, functions, and every table's rows.
 */
async function snapshot(db: TestDatabase) {
  const list = async (sql: string) =>
    (await db.query(sql)).map((row) => Object.values(row).map(String).join(" | "));
  const inSchema = "n.nspname = current_schema()";
  const tables = await list(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
  );
  const rows: string[] = [];
  for (const table of tables) {
    const [row] = await db.query(
      `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS sum FROM ${table} t`,
    );
    rows.push(`${table}: ${String(row?.n)} rows, ${String(row?.sum)}`);
  }
  return {
    tables,
    columns: await list(
      `SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
         FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2`,
    ),
    indexes: await list(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1",
    ),
    constraints: await list(
      `SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE ${inSchema} ORDER BY 1`,
    ),
    sequences: await list(
      "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema() ORDER BY 1",
    ),
    triggers: await list(
      `SELECT t.tgname, cl.relname FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE ${inSchema} AND NOT t.tgisinternal ORDER BY 1`,
    ),
    functions: await list(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${inSchema} ORDER BY 1`,
    ),
    rows,
  };
}

describe("osad2-server init and run on PostgreSQL (real child processes)", () => {
  let db: TestDatabase | undefined;
  let dir: TempDir | undefined;
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.on("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
    }
    await db?.drop();
    await dir?.remove();
    db = dir = undefined;
  });

  /**
   * A schema like Spacewalk's own: its tables, indexes, sequences and rhnPushClient's trigger,
   * with systems and actions in it, and no osad2 bookkeeping table.
   */
  async function spacewalkSchema(): Promise<TestDatabase> {
    const database = await createTestDatabase("postgres");
    db = database;
    const store = await openStore(database.url, { schema: database.schema });
    try {
      await store.prepare();
      const { system } = await createSystem(store, { name: "web01" });
      await store.registerPushClient(system.id, { name: "0123456789abcdef", sharedKey: "k" });
      await scheduleAction(store, { serverIds: [system.id] });
    } finally {
      await store.close();
    }
    await database.query("DROP TABLE osad2_knex_migrations, osad2_knex_migrations_lock");
    return database;
  }

  async function config(database: TestDatabase): Promise<string> {
    dir = await tempDir("osad2-init-pg-");
    const [publisher, listener] = await freePorts(2);
    const file = path.join(dir.path, "osad_server.cfg");
    await fs.writeFile(
      file,
      [
        "[main]",
        `database = ${database.url}`,
        `database_schema = ${database.schema ?? ""}`,
        `certificates = ${path.join(dir.path, "certs")}`,
        "bind = 127.0.0.1",
        "public_host = 127.0.0.1",
        `publisher_port = ${publisher}`,
        `listener_port = ${listener}`,
        "proxy_port = 0",
        "xmlrpc_port = 0",
        "metrics_port = 0",
        "",
      ].join("\n"),
    );
    return file;
  }

  /** `osad2-server run` until it logged a line matching `pattern`; returns that line. */
  async function runUntilLogged(configPath: string, pattern: RegExp): Promise<string> {
    const child = spawn(process.execPath, [CLI, "run", "--config", configPath], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on("line", (line) => lines.push(line));
    }
    const line = await waitFor(`a log line matching ${pattern}`, () =>
      lines.find((l) => pattern.test(l)),
    );
    // The line comes during start-up; a SIGTERM then may end it by the signal, not exit 0.
    await waitFor("osad2-server running", () =>
      lines.find((l) => l.includes('"osad2-server running"')),
    );
    child.kill("SIGTERM");
    expect(await new Promise((resolve) => child.on("exit", resolve))).toBe(0);
    return line;
  }

  it("installs the NOTIFY trigger by default: on Spacewalk's schema the trigger and its function are all it adds", async () => {
    const database = await spacewalkSchema();
    const configPath = await config(database);
    const before = await snapshot(database);

    const init = await cli(["init", "--config", configPath]);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({
      schema: "existing",
      migrationsApplied: [],
      notifyTrigger: true,
    });
    const after = await snapshot(database);
    expect(after.triggers).toEqual([...before.triggers, `${TRIGGER} | rhnserveraction`].sort());
    expect(after.functions).toEqual([...before.functions, FUNCTION].sort());
    expect({ ...after, triggers: [], functions: [] }).toEqual({
      ...before,
      triggers: [],
      functions: [],
    });
    // Again: nothing more.
    expect((await cli(["init", "--config", configPath])).code).toBe(0);
    expect(await snapshot(database)).toEqual(after);

    const line = await runUntilLogged(configPath, /NOTIFY trigger/);
    expect(JSON.parse(line)).toMatchObject({ level: 30, wakeUps: "notify", trigger: TRIGGER });
    expect(line).toContain(`NOTIFY trigger ${TRIGGER} present`);
  });

  it("--no-notify-trigger adds nothing at all; run then says the poll finds due work", async () => {
    const database = await spacewalkSchema();
    const configPath = await config(database);
    const before = await snapshot(database);
    const init = await cli(["init", "--no-notify-trigger", "--config", configPath]);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ schema: "existing", notifyTrigger: false });
    expect(await snapshot(database)).toEqual(before);

    const line = await runUntilLogged(configPath, /NOTIFY trigger/);
    expect(JSON.parse(line)).toMatchObject({ level: 40, wakeUps: "poll" });
    expect(line).toContain(`NOTIFY trigger ${TRIGGER} absent`);
  });

  it("creates the standalone schema with the trigger on an empty one", async () => {
    const database = await createTestDatabase("postgres");
    db = database;
    const configPath = await config(database);
    const init = await cli(["init", "--config", configPath]);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ schema: "created", notifyTrigger: true });
    expect((await snapshot(database)).triggers).toContain(`${TRIGGER} | rhnserveraction`);
  });
});
