import { sleep } from "@osad2/test-helpers";
import { afterEach, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import {
  clientSubscriptions,
  decodePublisherMessage,
  encodeCheckin,
  encodePing,
  isCheckinFor,
  type PublisherMessage,
} from "../src/index.js";

const sockets: Array<zmq.Publisher | zmq.Subscriber> = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** Collects what a subscriber would act on until the marker ping arrives. */
async function actedOn(sub: zmq.Subscriber, name: string): Promise<PublisherMessage[]> {
  const acted: PublisherMessage[] = [];
  for await (const frames of sub) {
    const msg = decodePublisherMessage(frames);
    if (msg.kind === "ping" && msg.token === "end") return acted;
    if (isCheckinFor(msg, name)) acted.push(msg);
  }
  return acted;
}

describe("exact topics over real ZeroMQ sockets", () => {
  it("clients ab and abc never see each other's checkins", async () => {
    const pub = new zmq.Publisher({ linger: 0 });
    sockets.push(pub);
    await pub.bind("tcp://127.0.0.1:*");
    const endpoint = pub.lastEndpoint as string;

    // "naive" subscribes by bare prefix as the seed did; decoding must still keep it exact.
    const subs = {
      ab: new zmq.Subscriber({ linger: 0, receiveTimeout: 15_000 }),
      abc: new zmq.Subscriber({ linger: 0, receiveTimeout: 15_000 }),
      naive: new zmq.Subscriber({ linger: 0, receiveTimeout: 15_000 }),
    };
    for (const [name, sub] of Object.entries(subs)) {
      sockets.push(sub);
      sub.connect(endpoint);
      if (name === "naive") sub.subscribe("system:ab", "ping");
      else sub.subscribe(...clientSubscriptions(name));
    }

    // Slow-joiner: publish pings until every subscriber has seen one.
    const joined = Promise.all(
      Object.values(subs).map(async (sub) => {
        for await (const frames of sub) if (decodePublisherMessage(frames).kind === "ping") return;
      }),
    );
    let done = false;
    void joined.then(() => (done = true));
    while (!done) {
      await pub.send(encodePing("warmup"));
      await sleep(20);
    }
    await joined;

    const results = Promise.all([
      actedOn(subs.ab, "ab"),
      actedOn(subs.abc, "abc"),
      actedOn(subs.naive, "ab"),
    ]);
    for (let i = 0; i < 3; i++) {
      await pub.send(encodeCheckin("ab"));
      await pub.send(encodeCheckin("abc"));
    }
    await pub.send(encodePing("end"));
    const [ab, abc, naive] = await results;

    expect(ab).toHaveLength(3);
    expect(ab.every((m) => m.kind === "checkin" && m.clientName === "ab")).toBe(true);
    expect(abc).toHaveLength(3);
    expect(abc.every((m) => m.kind === "checkin" && m.clientName === "abc")).toBe(true);
    expect(naive).toHaveLength(3);
    expect(naive.every((m) => m.kind === "checkin" && m.clientName === "ab")).toBe(true);
  });
});
