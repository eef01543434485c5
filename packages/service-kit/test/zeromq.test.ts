import { caught } from "@osad2/test-helpers";
import * as zmq from "zeromq";
import { afterEach, describe, expect, it } from "vitest";
import { BindError, silentLogger } from "../src/index.js";
import {
  ZAP_ENDPOINT,
  ZapResponder,
  bindOnce,
  bindWithRetry,
  type BindOptions,
  type ZapCurveRequest,
  type ZapDecider,
  type ZapRefusal,
  type ZapReplyTurn,
  type ZapVerdict,
} from "../src/zeromq/index.js";

class TestBindError extends BindError {
  override readonly name = "TestBindError";
}
const BIND: BindOptions = { inUseBy: "another test", errorClass: TestBindError };

const closers: { close(): unknown }[] = [];
afterEach(async () => {
  for (const closer of closers.splice(0).reverse()) await closer.close();
});

describe("bindOnce / bindWithRetry", () => {
  it("resolves with the real port, and explains a port in use with the caller's error class", async () => {
    const first = new zmq.Router({ linger: 0 });
    const second = new zmq.Router({ linger: 0 });
    closers.push(first, second);
    const endpoint = await bindOnce(first, "tcp://127.0.0.1:0", BIND);
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const error = await caught(() => bindOnce(second, endpoint, BIND));
    expect(error).toBeInstanceOf(TestBindError);
    expect(error).toBeInstanceOf(BindError);
    expect(error).toMatchObject({
      name: "TestBindError",
      endpoint,
      message: `cannot bind ${endpoint}: address already in use (another test, or change the port)`,
    });
  });

  it("an address not on this host says so", async () => {
    const socket = new zmq.Router({ linger: 0 });
    closers.push(socket);
    const error = await caught(() => bindOnce(socket, "tcp://192.0.2.1:0", BIND));
    expect(error).toMatchObject({ message: expect.stringContaining("(check bind)") as string });
  });

  it("bindWithRetry takes the port once its holder lets go", async () => {
    const holder = new zmq.Router({ linger: 0 });
    const next = new zmq.Router({ linger: 0 });
    closers.push(next);
    const endpoint = await bindOnce(holder, "tcp://127.0.0.1:0", BIND);
    const bound = bindWithRetry(next, endpoint, BIND);
    holder.close();
    expect(await bound).toBe(endpoint);
  });
});

/** A decider answering from a fixed list of allowed credentials, recording what it was told. */
class ListDecider implements ZapDecider {
  readonly domains = new Set(["test.domain"]);
  readonly refusals: { address: string; reason: ZapRefusal }[] = [];
  readonly asked: ZapCurveRequest[] = [];
  constructor(
    private readonly allowed: Buffer,
    private readonly turn?: ZapReplyTurn,
  ) {}
  refused(address: string, reason: ZapRefusal): void {
    this.refusals.push({ address, reason });
  }
  decide(request: ZapCurveRequest): Promise<ZapVerdict> {
    this.asked.push(request);
    return Promise.resolve(
      request.credential.equals(this.allowed)
        ? { status: "200", text: "OK", userId: "allowed-key", turn: this.turn }
        : { status: "400", text: "unknown" },
    );
  }
}

/** Counts the replies that went through it. */
class CountingTurn implements ZapReplyTurn {
  taken = 0;
  async take(send: () => Promise<void>): Promise<void> {
    this.taken += 1;
    await send();
  }
}

async function zapClient(decider: ZapDecider) {
  const context = new zmq.Context();
  const responder = await ZapResponder.start({
    socket: new zmq.Router({ context, linger: 0 }),
    decider,
    logger: silentLogger(),
  });
  const dealer = new zmq.Dealer({ context, linger: 0 });
  closers.push(responder, dealer);
  dealer.connect(ZAP_ENDPOINT);
  return async (frames: string[], credential?: Buffer): Promise<string[]> => {
    const request = [Buffer.alloc(0), ...frames.map((frame) => Buffer.from(frame))];
    await dealer.send(credential === undefined ? request : [...request, credential]);
    const reply = await dealer.receive();
    return reply.map((frame) => frame.toString());
  };
}

describe("ZapResponder (RFC 27)", () => {
  it("answers malformed, wrong-domain and non-CURVE requests itself and asks the decider the rest", async () => {
    const allowed = Buffer.alloc(32, 7);
    const turn = new CountingTurn();
    const decider = new ListDecider(allowed, turn);
    const ask = await zapClient(decider);

    expect(await ask(["2.0", "r1", "test.domain", "10.0.0.1", "", "CURVE"], allowed)).toEqual([
      "",
      "1.0",
      "r1",
      "500",
      "malformed ZAP request",
      "",
      "",
    ]);
    expect(
      (await ask(["1.0", "r2", "other", "10.0.0.2", "", "CURVE"], allowed)).slice(3, 5),
    ).toEqual(["400", "unknown domain"]);
    expect((await ask(["1.0", "r3", "test.domain", "10.0.0.3", "", "NULL"])).slice(3, 5)).toEqual([
      "400",
      "CURVE required",
    ]);
    expect(decider.refusals).toEqual([
      { address: "10.0.0.1", reason: "malformed-request" },
      { address: "10.0.0.2", reason: "wrong-domain" },
      { address: "10.0.0.3", reason: "wrong-mechanism" },
    ]);
    expect(decider.asked).toEqual([]);

    expect(await ask(["1.0", "r4", "test.domain", "10.0.0.4", "", "CURVE"], allowed)).toEqual([
      "",
      "1.0",
      "r4",
      "200",
      "OK",
      "allowed-key",
      "",
    ]);
    expect(turn.taken).toBe(1);
    const stranger = Buffer.alloc(32, 9);
    expect(
      (await ask(["1.0", "r5", "test.domain", "", "", "CURVE"], stranger)).slice(3, 5),
    ).toEqual(["400", "unknown"]);
    expect(decider.asked).toEqual([
      { domain: "test.domain", address: "10.0.0.4", credential: allowed },
      { domain: "test.domain", address: "", credential: stranger },
    ]);
  });
});
