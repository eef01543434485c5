import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPair } from "@osad2/keys";
import { TempDirs, waitFor } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import { writeProxyCerts } from "./helpers.js";
import { LinkParent } from "./link-parent.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const dirs = new TempDirs("osad2-proxy-cli-");
const parents: LinkParent[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(parents.splice(0).map((p) => p.close()));
  await dirs.removeAll();
});

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function configFor(upstreamPort: number, extra = ""): Promise<{ dir: string; path: string }> {
  const dir = await dirs.make();
  const path = join(dir, "osad2-proxy.conf");
  await writeFile(
    path,
    `[osad2-proxy]\nname = edge1\nupstream = 127.0.0.1:${upstreamPort}\nbind = 127.0.0.1\nlistener_port = 0\nproxy_port = 0\ncertificates = ${join(dir, "certs")}\n${extra}`,
  );
  return { dir, path };
}

describe("osad2-proxy run", () => {
  it("binds, links to its parent under its name, and stops cleanly on SIGTERM", async () => {
    const parent = await LinkParent.start();
    parents.push(parent);
    const { dir, path } = await configFor(parent.port);
    await writeProxyCerts(join(dir, "certs"), generateKeyPair(), parent.keyPair.publicKey);
    const proxy = run(["run", "--config", path]);
    const link = await waitFor("the proxy links", () => parent.of("link")[0]);
    expect(link.proxyName).toBe("edge1");
    await waitFor("keep-alives", () => parent.of("alive").length > 0);
    expect(proxy.output()).toMatch(/osad2-proxy started/);
    proxy.child.kill("SIGTERM");
    expect(await proxy.exited).toBe(0);
  });

  it("exits 2 naming the key file and the fix when the proxy's keys are missing", async () => {
    const { path } = await configFor(1);
    const proxy = run(["run", "--config", path]);
    expect(await proxy.exited).toBe(2);
    expect(proxy.output()).toMatch(/proxy\.key_secret not found: install this proxy's key package/);
  });

  it("exits 2 naming upstream when it is not configured", async () => {
    const dir = await dirs.make();
    const path = join(dir, "osad2-proxy.conf");
    await writeFile(path, "[osad2-proxy]\nname = edge1\n");
    const proxy = run(["run", "--config", path]);
    expect(await proxy.exited).toBe(2);
    expect(proxy.output()).toMatch(/upstream/);
  });
});
