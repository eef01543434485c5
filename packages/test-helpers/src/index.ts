export { freePort, freePorts } from "./ports.js";
export { waitFor, sleep } from "./wait.js";
export { tempDir, TempDirs } from "./tempdir.js";
export { createTestSchema, POSTGRES_URL } from "./postgres.js";
export { createTestDatabase, DATABASE_KINDS } from "./database.js";
export { caught } from "./caught.js";

export type { TempDir } from "./tempdir.js";
export type { WaitOptions } from "./wait.js";
export type { TestSchema } from "./postgres.js";
export type { TestDatabase, TestDatabaseKind } from "./database.js";
export { readManPage, bashSyntaxErrors, bashComplete } from "./cli-docs.js";
