import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { caught, TempDirs } from "@osad2/test-helpers";
import { ManagedClients } from "../src/presence/managed-clients.js";
import {
  JsonManagedClientsFile,
  MANAGED_CLIENTS_FILE,
  ManagedClientsFileError,
} from "../src/presence/managed-file.js";
import { ManagingRegistrationStore } from "../src/presence/managed-registrations.js";
import type { ManagedRegistrationSource } from "../src/presence/managed-registrations.js";
import { FakePresenceStore, MemoryManagedFile } from "./fakes.js";

const dirs = new TempDirs("osad2-managed-");
afterEach(() => dirs.removeAll());

describe("the managed-clients file", () => {
  it("is an empty set when missing, and round-trips atomically with mode 0640 in a state_dir it creates", async () => {
    const stateDir = path.join(await dirs.make(), "var", "lib", "osad2");
    const file = new JsonManagedClientsFile(stateDir);
    expect(file.path).toBe(path.join(stateDir, MANAGED_CLIENTS_FILE));
    expect(await file.load()).toEqual([]);
    const previous = process.umask(0o077);
    try {
      await file.save(["a1", "b2"]);
    } finally {
      process.umask(previous);
    }
    expect(await file.load()).toEqual(["a1", "b2"]);
    expect((await fs.stat(file.path)).mode & 0o777).toBe(0o640);
    expect((await fs.stat(stateDir)).mode & 0o777).toBe(0o750);
    expect(await fs.readdir(stateDir)).toEqual([MANAGED_CLIENTS_FILE]);
  });

  it.each([
    ["not JSON", "{clients: [", /is not JSON/],
    ["another shape", "[]", /is not an object/],
    ["another version", '{"version":2,"clients":[]}', /has version 2/],
    ["no list", '{"version":1,"clients":"a1"}', /"clients" is not a list/],
    [
      "a bad name",
      '{"version":1,"clients":["ok","no spaces"]}',
      /"clients"\[1\] is not a push client name/,
    ],
  ])("refuses a file that is %s with an error naming it", async (_what, body, message) => {
    const stateDir = await dirs.make();
    const file = new JsonManagedClientsFile(stateDir);
    await fs.writeFile(file.path, body);
    const error = await caught(() => file.load());
    expect(error).toBeInstanceOf(ManagedClientsFileError);
    expect((error as ManagedClientsFileError).path).toBe(file.path);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(file.path);
    // Nothing is lost: the file is as it was.
    expect(await fs.readFile(file.path, "utf8")).toBe(body);
  });
});

describe("ManagedClients", () => {
  async function open(file = new MemoryManagedFile(), store = new FakePresenceStore()) {
    const failures: unknown[] = [];
    const managed = await ManagedClients.open({
      file,
      store,
      saveFailed: (error) => failures.push(error),
    });
    return { managed, file, store, failures };
  }

  it("saves each admitted name once, folding names admitted during a save into the next", async () => {
    const { managed, file } = await open();
    const all = Promise.all(["c", "a", "b"].map((name) => managed.admit(name)));
    await all;
    expect(file.saved).toEqual(["a", "b", "c"]);
    expect(file.saves).toBe(2); // "c" alone, then "a" and "b" together
    await managed.admit("a");
    expect(file.saves).toBe(2);
  });

  it("reports a failed save and saves again at the next flush", async () => {
    const { managed, file, failures } = await open();
    file.failures = 1;
    await managed.admit("a");
    expect(failures).toHaveLength(1);
    expect(file.saved).toBeUndefined();
    expect(managed.isManaged("a")).toBe(true);
    await managed.flush();
    expect(file.saved).toEqual(["a"]);
  });

  it("prunes names whose row is gone", async () => {
    const store = new FakePresenceStore();
    store.add("here", "offline");
    const { managed, file } = await open(new MemoryManagedFile(["here", "gone"]), store);
    expect(await managed.prune()).toBe(1);
    expect(managed.isManaged("gone")).toBe(false);
    expect(file.saved).toEqual(["here"]);
  });

  it("register_osad through presence: the new name is managed, the one it replaces is not, and neither name's key stays cached", async () => {
    const { managed, file } = await open(new MemoryManagedFile(["old-name"]));
    const calls: string[] = [];
    const source: ManagedRegistrationSource = {
      findSystem: () => Promise.resolve(undefined),
      recordCheckin: () => Promise.resolve(),
      registerPushClientJid: () => Promise.resolve(),
      pushDispatchers: () => Promise.resolve([]),
      clientNameOf: (serverId) => {
        calls.push(`clientNameOf ${serverId}`);
        return Promise.resolve(serverId === 7 ? "old-name" : undefined);
      },
      registerPushClient: (serverId, client) => {
        calls.push(`register ${serverId} ${client.name}`);
        return Promise.resolve();
      },
    };
    const forgotten: string[] = [];
    const registrations = new ManagingRegistrationStore(source, managed, {
      forget: (name) => forgotten.push(name),
    });
    await registrations.registerPushClient(7, { name: "new-name", sharedKey: "k" });
    await registrations.registerPushClient(8, { name: "first-name", sharedKey: "k" });
    expect(calls).toEqual([
      "clientNameOf 7",
      "register 7 new-name",
      "clientNameOf 8",
      "register 8 first-name",
    ]);
    expect(file.saved).toEqual(["first-name", "new-name"]);
    // The replaced name's cached key stops verifying at once; no stale miss hides the new one.
    expect(forgotten).toEqual(["old-name", "new-name", "first-name"]);
  });
});
