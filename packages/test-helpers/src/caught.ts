/**
 * Calls `fn` and returns what it throws, so a test can assert on the error's class and fields
 * (`expect(await caught(() => parse(x))).toBeInstanceOf(ParseError)`). Throws when `fn` does
 * not throw, failing the test.
 */
export async function caught(fn: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, none was thrown");
}
