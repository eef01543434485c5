// The `database` setting as administrators write it, TCP or PostgreSQL's unix socket; the
// socket form is proven against the machine's PostgreSQL, not only parsed.
import { describe, expect, it } from "vitest";
import { DatabaseConfigError, openStore, parseDatabaseUrl } from "../src/db/index.js";
import { caught, POSTGRES_URL } from "@osad2/test-helpers";

const SOCKET_DIR = "/var/run/postgresql";

describe("database URL", () => {
  it("takes host, port and database from a TCP URL, never showing a password", () => {
    expect(parseDatabaseUrl("postgres://sw:secret@db.example.com:6432/rhn")).toEqual({
      kind: "postgres",
      connectionString: "postgres://sw:secret@db.example.com:6432/rhn",
      display: "db.example.com:6432/rhn",
    });
  });

  it("takes the unix socket directory from ?host=, with or without a host in the authority", () => {
    expect(parseDatabaseUrl(`postgres://postgres@/test?host=${SOCKET_DIR}`).display).toBe(
      `${SOCKET_DIR}:5432/test`,
    );
    expect(parseDatabaseUrl(`postgresql:///test?host=${SOCKET_DIR}&port=5433`).display).toBe(
      `${SOCKET_DIR}:5433/test`,
    );
    // pg lets ?host= win over the authority's host, so the display does too.
    expect(parseDatabaseUrl(`postgres://u@localhost/test?host=${SOCKET_DIR}`).display).toBe(
      `${SOCKET_DIR}:5432/test`,
    );
  });

  it("refuses a URL with neither a host nor ?host=, naming both forms", async () => {
    const error = await caught(() => parseDatabaseUrl("postgres:///test"));
    expect(error).toBeInstanceOf(DatabaseConfigError);
    expect((error as Error).message).toMatch(/names no host.*\?host=\/var\/run\/postgresql/);
  });

  it("connects to the machine's PostgreSQL through its unix socket", async () => {
    const database = new URL(POSTGRES_URL).pathname.slice(1);
    const user = new URL(POSTGRES_URL).username;
    const store = await openStore(`postgres://${user}@/${database}?host=${SOCKET_DIR}`);
    try {
      await expect(store.healthCheck()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
