import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { encodeHello, encodePong, type ListenerMessage } from "@osad2/protocol";
import { checkHealth } from "../src/telemetry/health.js";
import type { InboundSource } from "../src/transport/ports.js";
import {
  ROUTER_RESTART_MIN_MS,
  RouterLoop,
  type ClientMessageHandler,
  type InboundReport,
} from "../src/transport/router-loop.js";
import { recordingLogger } from "./fakes.js";

/**
 * A ROUTER as the loop sees it: each messages() call serves the next scripted batch of
 * [routing id, frame] messages, then fails with `error` or, without one, waits until closed.
 */
class ScriptedSource implements InboundSource {
  calls = 0;
  private closeNow: (() => void) | undefined;
  private readonly closed = new Promise<void>((resolve) => (this.closeNow = resolve));

  constructor(private readonly script: { messages: Buffer[][]; error?: Error }[]) {}

  async *messages(): AsyncGenerator<Buffer[]> {
    const step = this.script[this.calls];
    this.calls += 1;
    for (const message of step?.messages ?? []) yield message;
    if (step?.error !== undefined) throw step.error;
    await this.closed;
  }

  close(): void {
    this.closeNow?.();
  }
}

class RecordingHandler implements ClientMessageHandler, InboundReport {
  readonly seen: string[] = [];

  received(routingId: Buffer, message: ListenerMessage): void {
    const id = routingId.toString();
    if (message.kind === "pong") this.seen.push(`pong ${id} ${message.token}`);
    else if (message.kind === "hello")
      this.seen.push(`hello ${id} ${message.hello.clientName} ${message.hello.software}`);
    else this.seen.push(`${message.kind} ${id}`);
  }

  malformed(reason: string): void {
    this.seen.push(`malformed ${reason}`);
  }
}

const message = (name: string, frame: Buffer): Buffer[] => [Buffer.from(name), frame];

describe("RouterLoop", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("a failing receive is logged at error level, reported unhealthy, and the loop restarts", async () => {
    const source = new ScriptedSource([
      { messages: [message("c1", encodePong("t1"))], error: new Error("EBUSY: socket busy") },
      {
        messages: [
          message("c1", encodeHello({ clientName: "c1", software: "osad2 0.1", lastRun: null })),
        ],
      },
    ]);
    const handler = new RecordingHandler();
    const { logger, lines } = recordingLogger();
    const loop = new RouterLoop({ source, handler, report: handler, logger });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(handler.seen).toEqual(["pong c1 t1"]);
    expect(loop.status).toEqual({ ok: false, error: "EBUSY: socket busy", restarts: 0 });
    const errors = lines.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/ROUTER.*restarting/);

    const health = await checkHealth({
      running: true,
      store: { kind: "sqlite", healthCheck: async () => undefined },
      sockets: { state: { publisher: true, listener: true } },
      router: loop,
    });
    expect(health).toMatchObject({
      healthy: false,
      router: { ok: false, error: "EBUSY: socket busy" },
    });

    await vi.advanceTimersByTimeAsync(ROUTER_RESTART_MIN_MS);
    expect(source.calls).toBe(2);
    expect(handler.seen).toEqual(["pong c1 t1", "hello c1 c1 osad2 0.1"]);
    expect(loop.status).toEqual({ ok: true, restarts: 1 });
    expect(
      (
        await checkHealth({
          running: true,
          store: { kind: "sqlite", healthCheck: async () => undefined },
          sockets: { state: { publisher: true, listener: true } },
          router: loop,
        })
      ).healthy,
    ).toBe(true);
    source.close();
    await loop.stop();
  });

  it("backs off longer after repeated failures, and stop() ends it without another restart", async () => {
    const boom = (n: number) => ({ messages: [], error: new Error(`failure ${n}`) });
    const source = new ScriptedSource([boom(1), boom(2), boom(3)]);
    const handler = new RecordingHandler();
    const { logger, lines } = recordingLogger();
    const loop = new RouterLoop({ source, handler, report: handler, logger });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(ROUTER_RESTART_MIN_MS); // second attempt fails too
    expect(source.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2 * ROUTER_RESTART_MIN_MS - 1);
    expect(source.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.calls).toBe(3);
    expect(lines.filter((line) => line.level === 50)).toHaveLength(3);
    await loop.stop(); // during the back-off after the third failure
    await vi.advanceTimersByTimeAsync(60_000);
    expect(source.calls).toBe(3);
  });

  it("drops what does not decode and carries on", async () => {
    const source = new ScriptedSource([
      {
        messages: [
          [Buffer.from([0xff, 0xfe])],
          message("c1", Buffer.from("hello {not json")),
          message("c2", encodeHello({ clientName: "c1", software: "x", lastRun: null })),
          message("c1", encodePong("t2")),
        ],
      },
    ]);
    const handler = new RecordingHandler();
    const loop = new RouterLoop({
      source,
      handler,
      report: handler,
      logger: recordingLogger().logger,
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(handler.seen).toEqual([
      // A routing id and no message frame.
      "malformed frame-count",
      expect.stringMatching(/^malformed /),
      // The loop only decodes: whether c2 may say hello for c1 is the authenticator's call.
      "hello c2 c1 x",
      "pong c1 t2",
    ]);
    expect(loop.status.ok).toBe(true);
    source.close();
    await loop.stop();
  });
});
