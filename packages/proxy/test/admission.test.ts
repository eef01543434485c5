import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AdmissionCache, type AdmitQuestionSender } from "../src/admission.js";

/** Records the questions sent upstream, as the link would carry them. */
class Questions implements AdmitQuestionSender {
  readonly asked: string[] = [];
  ask(query: string): boolean {
    this.asked.push(query);
    return true;
  }
}

const KEY = "k".repeat(40);

describe("AdmissionCache answer timeout (default)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("admits a key whose answer comes after 5 s (a server busy with 18,000 connecting clients)", async () => {
    const questions = new Questions();
    const cache = new AdmissionCache(questions, {}, () => Date.now());
    cache.linkUp();
    const decided = cache.decide("client", KEY);
    await vi.advanceTimersByTimeAsync(5_000);
    cache.answered(questions.asked[0] as string, true);
    await expect(decided).resolves.toBe(true);
    expect(cache.size).toBe(1);
  });

  it("refuses after 10 s without an answer, and remembers nothing (the next handshake asks again)", async () => {
    const questions = new Questions();
    const cache = new AdmissionCache(questions, {}, () => Date.now());
    cache.linkUp();
    const decided = cache.decide("client", KEY);
    let settled: boolean | undefined;
    void decided.then((allow) => (settled = allow));
    await vi.advanceTimersByTimeAsync(9_900);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(200);
    expect(settled).toBe(false);
    expect(cache.size).toBe(0);
    void cache.decide("client", KEY);
    expect(questions.asked).toHaveLength(2);
  });
});
