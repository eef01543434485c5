import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import xmlrpc from "xmlrpc";
import { tempDir } from "./helpers.js";

/** What the test server answers: a value, a fault, or nothing at all (hang). */
export type Answer =
  { value: unknown } | { fault: { faultCode: number; faultString: string } } | { hang: true };

export interface TestXmlRpcServer {
  readonly url: string;
  /** Params of every call received. */
  readonly calls: unknown[][];
  close(): Promise<void>;
}

const servers: xmlrpc.Server[] = [];

/** A real XML-RPC server on 127.0.0.1 (port chosen by the OS) serving register_osad. */
export async function startXmlRpcServer(
  answer: (params: unknown[], call: number) => Answer,
  tls?: { key: Buffer; cert: Buffer },
  method = "registration.register_osad",
): Promise<TestXmlRpcServer> {
  const options = { host: "127.0.0.1", port: 0 };
  let server!: xmlrpc.Server;
  await new Promise<void>((resolve) => {
    server = tls
      ? xmlrpc.createSecureServer({ ...options, ...tls }, resolve)
      : xmlrpc.createServer(options, resolve);
  });
  servers.push(server);
  const calls: unknown[][] = [];
  server.on(method, (_err: unknown, params: unknown[], callback) => {
    calls.push(params);
    const a = answer(params, calls.length);
    if ("hang" in a) return;
    if ("fault" in a) callback(a.fault, undefined);
    else callback(null, a.value);
  });
  const { port } = server.httpServer.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.httpServer.closeAllConnections();
      server.httpServer.close(() => resolve());
    });
  return { url: `${tls ? "https" : "http"}://127.0.0.1:${port}/XMLRPC`, calls, close };
}

export async function closeXmlRpcServers(): Promise<void> {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.httpServer.closeAllConnections();
          s.httpServer.close(() => resolve());
        }),
    ),
  );
}

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it (real openssl). */
export async function makeTlsFiles(
  dir: string,
): Promise<{ caPath: string; key: Buffer; cert: Buffer }> {
  const p = (name: string): string => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const quiet = { stdio: "ignore" as const };
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      p("ca.key"),
      "-out",
      p("ca.crt"),
      "-days",
      "1",
      "-subj",
      "/CN=osad2 test CA",
    ],
    quiet,
  );
  execFileSync(
    "openssl",
    ["req", ...ec, "-keyout", p("srv.key"), "-out", p("srv.csr"), "-subj", "/CN=127.0.0.1"],
    quiet,
  );
  await writeFile(p("ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  execFileSync(
    "openssl",
    [
      "x509",
      "-req",
      "-in",
      p("srv.csr"),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-out",
      p("srv.crt"),
      "-days",
      "1",
      "-extfile",
      p("ext.cnf"),
    ],
    quiet,
  );
  const { readFile } = await import("node:fs/promises");
  return {
    caPath: p("ca.crt"),
    key: await readFile(p("srv.key")),
    cert: await readFile(p("srv.crt")),
  };
}

/** A systemid document shaped like Spacewalk's (content does not matter to the client). */
export function systemIdXml(id: number): string {
  return `<?xml version="1.0"?>
<params><param><value><struct>
<member><name>system_id</name><value><string>ID-${id}</string></value></member>
<member><name>username</name><value><string>admin</string></value></member>
<member><name>fields</name><value><array><data><value><string>system_id</string></value></data></array></value></member>
<member><name>checksum</name><value><string>0123456789abcdef</string></value></member>
</struct></value></param></params>
`;
}

/** A systemid file for system `id` in a temporary directory of its own. */
export async function systemidFile(id = 1000010001): Promise<string> {
  const path = join(await tempDir(), "systemid");
  await writeFile(path, systemIdXml(id));
  return path;
}
