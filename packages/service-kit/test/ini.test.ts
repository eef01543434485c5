import { caught } from "@osad2/test-helpers";
import { describe, expect, it } from "vitest";
import { ConfigError, parseIni } from "../src/index.js";

const PATH = "/etc/osad2/x.cfg";

function values(text: string, section = "osad"): Record<string, string> {
  const doc = parseIni(text, PATH);
  return Object.fromEntries(
    [...(doc.sections.get(section) ?? new Map())].map(([key, entry]) => [key, entry.value]),
  );
}

async function failure(text: string): Promise<ConfigError> {
  const error = await caught(() => parseIni(text, PATH));
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("parseIni (the seed's ConfigParser dialect)", () => {
  it("reads sections, = and : delimiters, comments, inline ; comments and case-folded keys", () => {
    const doc = parseIni(
      "# comment\n; comment\n[osad]\nA_Key = one ; inline\nb: two;not a comment\n\n  \n[other]\nc = 3\n",
      PATH,
    );
    expect(values("[osad]\nA_Key = one ; inline\nb: two;not a comment\n")).toEqual({
      a_key: "one",
      b: "two;not a comment",
    });
    expect([...doc.sections.keys()]).toEqual(["osad", "other"]);
    expect(doc.sections.get("osad")?.get("a_key")).toEqual({ value: "one", line: 4 });
    expect(doc.sectionLines.get("other")).toBe(8);
  });

  it("joins indented continuation lines and keeps the first line's number", () => {
    const doc = parseIni("[osad]\ncmd = a\n  b\n\tc\nnext = 1\n", PATH);
    expect(doc.sections.get("osad")?.get("cmd")).toEqual({ value: "a\nb\nc", line: 2 });
    expect(doc.sections.get("osad")?.get("next")?.line).toBe(5);
  });

  it("interpolates %(key)s from the section and [DEFAULT], and %% as a percent sign", () => {
    const doc = parseIni(
      "[DEFAULT]\nproto = https\nhost = spacewalk\n[osad]\nhandler = /XMLRPC\nserver_url = %(proto)s://%(HOST)s%(handler)s\nrate = 100%%\n",
      PATH,
    );
    const osad = doc.sections.get("osad");
    expect(osad?.get("server_url")?.value).toBe("https://spacewalk/XMLRPC");
    expect(osad?.get("rate")?.value).toBe("100%");
    expect(doc.defaults.get("proto")?.value).toBe("https");
    expect(doc.sections.has("DEFAULT")).toBe(false);
  });

  it('reads "" as an empty value, as Python 2 ConfigParser did', () => {
    expect(values('[osad]\nlogfile = ""\n')).toEqual({ logfile: "" });
  });

  it("merges a section that appears twice", () => {
    expect(values("[osad]\na = 1\n[osad]\nb = 2\n")).toEqual({ a: "1", b: "2" });
  });

  it.each([
    ["an unclosed header", "[osad]\na = 1\n[main\n", 3, /malformed section header "\[main"/],
    ["a header without [", "main]\n", 1, /malformed section header "main\]"/],
    ["an empty header", "[]\n", 1, /malformed section header/],
    ["a line without =", "[osad]\njust words\n", 2, /expected "key = value" or "\[section\]"/],
    ["a key before any section", "a = 1\n[osad]\n", 1, /key "a" before any section header/],
    ["a duplicate key", "[osad]\na = 1\nA = 2\n", 3, /duplicate key "a"/],
    ["a continuation of nothing", "[osad]\n  x\n", 2, /indented line continues nothing/],
    [
      "a reference to nothing",
      "[osad]\nurl = %(nope)s\n",
      2,
      /"url" uses %\(nope\)s but no "nope" is set/,
    ],
    ["a loop", "[osad]\na = %(b)s\nb = %(a)s\n", 2, /"a" refers to itself through %\(a\)s/],
    ["a lone %", "[osad]\ncmd = date +%s\n", 2, /"cmd" has a lone "%": write %%/],
  ])("refuses %s with the file and line", async (_what, text, line, message) => {
    const error = await failure(text);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${PATH} line ${line}: `)).toBe(true);
    expect(error.path).toBe(PATH);
    expect(error.line).toBe(line);
  });

  it("names the key of a bad key line", async () => {
    expect((await failure("[osad]\na = 1\na = 2\n")).key).toBe("a");
  });
});
