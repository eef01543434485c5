import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describeError } from "@osad2/service-kit";
import {
  REGISTRATION_ERROR_REASONS,
  RegistrationError,
  type RegistrationErrorReason,
  RegistrationFault,
} from "./errors.js";
import {
  DEFAULT_REGISTRATION_TIMEOUT_MS,
  MAX_REPLY_BYTES,
  type RegisterOptions,
  type RegistrationReply,
  parseReply,
  registerOsad,
} from "./registration.js";

/** How register_osad is called: in this process, or in a short-lived child process. */
export interface RegistrationTransport {
  register(options: RegisterOptions): Promise<RegistrationReply>;
}

/** register_osad in this process ({@link registerOsad}): the library's default. */
export const inProcessRegistration: RegistrationTransport = { register: registerOsad };

/** Beyond the call's own timeout, how long the child may take to start and to report. */
export const SUBPROCESS_GRACE_MS = 15_000;
/** Most of the child's stderr kept for the error message. */
const STDERR_KEEP_BYTES = 4096;
/** The child reports a reply struct of at most MAX_REPLY_BYTES of XML, far less as JSON. */
const MAX_REPORT_BYTES = 2 * MAX_REPLY_BYTES;

/** What the child writes on stdout: one JSON document. */
type ChildReport =
  | { readonly ok: true; readonly raw: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly name: string;
      readonly message: string;
      readonly url?: string;
      readonly reason?: string;
      readonly faultCode?: number;
      readonly faultString?: string;
    };

export interface SubprocessRegistrationOptions {
  /** The child's program. Default: register-child.js beside this module (the built package). */
  readonly script?: string;
  /** Default process.execPath. */
  readonly execPath?: string;
  /** Time beyond the call's own timeout before the child is killed. Default {@link SUBPROCESS_GRACE_MS}. */
  readonly graceMs?: number;
}

/**
 * register_osad in a child process of its own, which exits when the call is done. The HTTP and
 * TLS stacks and the XML-RPC codec are loaded there, never in the service: they would stay in
 * the idle service's memory for good, ≈ 1.7 MiB for http and ≈ 3.7 MiB for https on Node 20
 * (docs/benchmarks.md, idle client). osad2-client run uses it; the child gets the options on
 * stdin and answers on stdout, and its reply is validated again here ({@link parseReply}).
 */
export class SubprocessRegistration implements RegistrationTransport {
  private readonly script: string;
  private readonly execPath: string;
  private readonly graceMs: number;

  constructor(options: SubprocessRegistrationOptions = {}) {
    this.script = options.script ?? fileURLToPath(new URL("./register-child.js", import.meta.url));
    this.execPath = options.execPath ?? process.execPath;
    this.graceMs = options.graceMs ?? SUBPROCESS_GRACE_MS;
  }

  register(options: RegisterOptions): Promise<RegistrationReply> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRATION_TIMEOUT_MS;
    const url = options.serverUrl;
    const failed = (detail: string, cause?: unknown): RegistrationError =>
      new RegistrationError(
        url,
        "subprocess",
        `registration helper ${this.script} ${detail} — reinstall osad2-client if it is missing or damaged`,
        cause === undefined ? undefined : { cause },
      );
    return new Promise((resolve, reject) => {
      // spawn, not fork: no IPC channel, and none of the service's Node flags.
      const child = spawn(this.execPath, [this.script], { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      let outBytes = 0;
      let err = "";
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        settle(() =>
          reject(
            new RegistrationError(
              url,
              "timeout",
              `registration at ${url} got no answer within ${(timeoutMs + this.graceMs) / 1000} s (its helper process was stopped) — is the server up and reachable?`,
            ),
          ),
        );
      }, timeoutMs + this.graceMs);
      child.stdout.on("data", (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > MAX_REPORT_BYTES) {
          child.kill("SIGKILL");
          settle(() => reject(failed(`reported more than ${MAX_REPORT_BYTES} bytes`)));
          return;
        }
        out.push(chunk);
      });
      child.stderr.on("data", (chunk: Buffer) => {
        err = (err + chunk.toString("utf8")).slice(-STDERR_KEEP_BYTES);
      });
      child.on("error", (error) =>
        settle(() => reject(failed(`cannot be started (${describeError(error)})`, error))),
      );
      child.on("close", (code, signal) =>
        settle(() => {
          if (code !== 0) {
            const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
            const why = stderrReason(err);
            return reject(failed(`${how}${why ? `: ${why}` : ""}`));
          }
          let report: ChildReport;
          try {
            report = JSON.parse(Buffer.concat(out).toString("utf8")) as ChildReport;
          } catch (error) {
            return reject(failed("reported no readable result", error));
          }
          try {
            if (report.ok) resolve(parseReply(url, report.raw));
            else reject(reviveError(url, report));
          } catch (error) {
            reject(error);
          }
        }),
      );
      // Nothing secret: the URL, the CA file names, the systemid file's path.
      child.stdin.on("error", () => undefined);
      child.stdin.end(
        JSON.stringify({
          serverUrl: options.serverUrl,
          caCert: options.caCert,
          systemidPath: options.systemidPath,
          timeoutMs,
        } satisfies RegisterOptions),
      );
    });
  }
}

/**
 * The line of a dead child's stderr that says why: Node ends an uncaught error with its own
 * version line, and puts the error (`Error: Cannot find module …`) before the stack.
 */
function stderrReason(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^Node\.js v\d/.test(l) && !l.startsWith("at "));
  return lines.find((l) => /^[A-Za-z]*Error\b|^osad2-client/.test(l)) ?? lines.at(-1) ?? "";
}

/** The child's error as the typed error registerOsad would have thrown in this process. */
function reviveError(url: string, report: Extract<ChildReport, { ok: false }>): Error {
  if (report.name === "RegistrationFault") {
    return new RegistrationFault(url, report.faultCode ?? 0, report.faultString ?? "");
  }
  if (report.name === "RegistrationError" && isReason(report.reason)) {
    return new RegistrationError(report.url ?? url, report.reason, report.message);
  }
  return new RegistrationError(
    url,
    "subprocess",
    `registration at ${url} failed: ${report.message}`,
  );
}

const REASONS: ReadonlySet<string> = new Set(REGISTRATION_ERROR_REASONS);

function isReason(reason: string | undefined): reason is RegistrationErrorReason {
  return reason !== undefined && REASONS.has(reason);
}

/**
 * The child's side: reads RegisterOptions (JSON) on stdin, calls register_osad once, writes a
 * {@link ChildReport} on stdout and exits 0; exits 1 only when it cannot even do that.
 */
export async function runRegistrationChild(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const options = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RegisterOptions;
  let report: ChildReport;
  try {
    const reply = await registerOsad(options);
    report = { ok: true, raw: { ...reply.raw } };
  } catch (error) {
    if (error instanceof RegistrationFault) {
      report = {
        ok: false,
        name: error.name,
        message: error.message,
        url: error.url,
        faultCode: error.faultCode,
        faultString: error.faultString,
      };
    } else if (error instanceof RegistrationError) {
      report = {
        ok: false,
        name: error.name,
        message: error.message,
        url: error.url,
        reason: error.reason,
      };
    } else {
      report = { ok: false, name: "Error", message: describeError(error) };
    }
  }
  await new Promise<void>((resolve, reject) =>
    process.stdout.write(JSON.stringify(report), (error) => (error ? reject(error) : resolve())),
  );
}
