// The packager's RPM as a system administrator uses it: built by `osad2-packager createclient`,
// installed with the real rpm into a temporary root, and the client from the installed tree
// authenticates against a server on the same certificates directory and runs rhn_check.
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyStore, readKeyPair } from "@osad2/keys";
import { createSystem, scheduleAction } from "@osad2/server/testing";
import { tempDir, waitFor } from "@osad2/test-helpers";
import { cliPath, Deployment, run, startProcess, type ManagedProcess } from "@osad2/testkit";

let d: Deployment;
let tmp: { path: string; remove(): Promise<void> };
let installRoot: string;
let rpmPath: string;
let client: ManagedProcess | undefined;

beforeAll(async () => {
  d = await Deployment.create({ database: "sqlite" });
  await d.init();
  tmp = await tempDir("osad2-rpm-e2e-");
  const out = path.join(tmp.path, "rpms");
  await fs.mkdir(out);
  const built = await run(
    process.execPath,
    [
      cliPath("packager"),
      "createclient",
      "--name",
      "rpmhost",
      "--certificates",
      d.certificates,
      "--server-host",
      "127.0.0.1",
      "--out",
      out,
    ],
    { timeoutMs: 120_000 },
  );
  expect(built.code, built.stdout + built.stderr).toBe(0);
  const rpms = (await fs.readdir(out)).filter((f) => f.endsWith(".rpm"));
  expect(rpms).toHaveLength(1);
  rpmPath = path.join(out, rpms[0]!);
  installRoot = path.join(tmp.path, "root");
  await fs.mkdir(installRoot);
  const installed = await run("rpm", [
    "-i",
    "--root",
    installRoot,
    "--nodeps",
    "--noscripts",
    rpmPath,
  ]);
  expect(installed.code, installed.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await client?.kill("SIGKILL");
  await d?.dispose();
  await tmp?.remove();
});

describe("client RPM installed with rpm --root", () => {
  it("holds the client's own key pair, which the server's allow-list accepts", async () => {
    const certs = path.join(installRoot, "etc/rhn/osad2-client/certs");
    const pair = await readKeyPair(path.join(certs, "client.key_secret"));
    const keys = await KeyStore.open(d.certificates);
    try {
      expect(keys.has(pair.publicKey)).toBe(true);
    } finally {
      await keys.close();
    }
    const mode = (await fs.stat(path.join(certs, "client.key_secret"))).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it("the installed client authenticates, registers and runs rhn_check on a checkin", async () => {
    const store = await d.store();
    const { system, systemIdXml } = await createSystem(store, { name: "rpmhost" });
    const systemid = path.join(tmp.path, "systemid");
    await fs.writeFile(systemid, systemIdXml);
    await d.startServer();
    const etc = path.join(installRoot, "etc/rhn/osad2-client");
    const config = await fs.readFile(path.join(etc, "osad_client.cfg"), "utf8");
    expect(config).toMatch(/127\.0\.0\.1/);
    client = startProcess(
      process.execPath,
      [
        path.join(installRoot, "usr/lib/osad2-client/cli.js"),
        "run",
        "--config",
        path.join(etc, "osad_client.cfg"),
        "--certificates",
        path.join(etc, "certs"),
        "--server-public-key",
        path.join(etc, "certs/server.key"),
        "--client-secret-key",
        path.join(etc, "certs/client.key_secret"),
        "--systemid",
        systemid,
        "--server-url",
        d.registrationUrl,
        "--publisher-port",
        String(d.ports.publisher),
        "--listener-port",
        String(d.ports.listener),
        "--rhn-check-command",
        d.recorderCommand("rpmhost"),
        "--state-file",
        path.join(tmp.path, "state.json"),
        "--run-at-start",
        "0",
      ],
      { name: "rpm-client" },
    );
    const online = await waitFor(
      "rpmhost online",
      async () => {
        const rows = await d.sql<{ state: string }>(
          `SELECT s.label AS state FROM rhnpushclient pc JOIN rhnpushclientstate s ON s.id = pc.state_id WHERE pc.server_id = ${system.id}`,
        );
        return rows[0]?.state === "online";
      },
      { timeoutMs: 30_000 },
    );
    expect(online).toBe(true);
    await scheduleAction(store, { serverIds: [system.id] });
    await waitFor("rpmhost's run", async () => (await d.runs()).some((r) => r.label === "rpmhost"));
  });
});
