import { createHash } from "node:crypto";

/** Hash Spacewalk uses for a given rhnServer.secret: sha256 for 64 characters, md5 for 32 (old systems). */
export function checksumAlgorithm(secret: string): "sha256" | "md5" | undefined {
  if (secret.length === 64) return "sha256";
  if (secret.length === 32) return "md5";
  return undefined;
}

/** A value the checksum can cover: Spacewalk feeds strings, numbers as decimal text, and lists item by item. */
export type ChecksumValue = string | number | readonly (string | number)[];

/**
 * Spacewalk's systemid checksum: a hash started with the secret, fed each covered field's value
 * (as a string) in `fields` order, then each field name; the lower-case hex digest.
 */
export function systemIdChecksum(
  secret: string,
  values: Readonly<Record<string, ChecksumValue>>,
  fields: readonly string[],
): string {
  const algorithm = checksumAlgorithm(secret);
  if (algorithm === undefined) {
    throw new RangeError(
      `a systemid secret must have 64 (sha256) or 32 (md5) characters, got ${secret.length}`,
    );
  }
  const hash = createHash(algorithm).update(secret);
  for (const field of fields) {
    const value = values[field];
    if (value === undefined) throw new RangeError(`checksum field "${field}" has no value`);
    for (const item of Array.isArray(value) ? value : [value]) hash.update(String(item));
  }
  for (const field of fields) hash.update(field);
  return hash.digest("hex");
}
