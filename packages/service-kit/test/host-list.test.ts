import { describe, expect, it } from "vitest";
import { parseHostList, tcpEndpoint, valueTypes } from "../src/index.js";

describe("host lists (server_host, upstream)", () => {
  it("parses hosts, host:port, IPv4 and bracketed or bare IPv6, trimming spaces", () => {
    expect(
      parseHostList("sw1.example.com, sw2.example.com:6001 ,10.0.0.1:5556,[::1]:7,[fe80::1],::2"),
    ).toEqual([
      { host: "sw1.example.com", port: undefined },
      { host: "sw2.example.com", port: 6001 },
      { host: "10.0.0.1", port: 5556 },
      { host: "::1", port: 7 },
      { host: "fe80::1", port: undefined },
      { host: "::2", port: undefined },
    ]);
  });

  it.each(["", "a,,b", "a:0", "a:65536", "a:x", "bad host", "-dash.example", "[::1", "a:1:2"])(
    "refuses %j",
    (text) => expect(parseHostList(text)).toBeUndefined(),
  );

  it("is empty for an empty value and checks values handed in by code", () => {
    expect(valueTypes.optionalHostList.parse("")).toEqual([]);
    expect(valueTypes.optionalHostList.accepts([{ host: "a", port: undefined }])).toBe(true);
    expect(valueTypes.optionalHostList.accepts([{ host: "bad host", port: 1 }])).toBe(false);
    expect(valueTypes.optionalHostList.accepts("a")).toBe(false);
  });

  it("writes ZeroMQ endpoints with brackets around IPv6", () => {
    expect(tcpEndpoint("::1", 5556)).toBe("tcp://[::1]:5556");
    expect(tcpEndpoint("sw.example.com", 5556)).toBe("tcp://sw.example.com:5556");
  });
});
