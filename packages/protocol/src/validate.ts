import { MAX_CLIENT_NAME_LENGTH, MAX_TOKEN_LENGTH } from "./constants.js";
import { ProtocolError } from "./errors.js";

// Names come from register_osad (16 hex chars) but operators may pick their own;
// anything without spaces or colons keeps topics unambiguous.
const CLIENT_NAME = /^[A-Za-z0-9._-]+$/;
// Tokens are printable ASCII without spaces, so `ping <token>` splits one way only.
const TOKEN = /^[\x21-\x7e]+$/;

export function isValidClientName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_CLIENT_NAME_LENGTH && CLIENT_NAME.test(name);
}

export function isValidToken(token: string): boolean {
  return token.length > 0 && token.length <= MAX_TOKEN_LENGTH && TOKEN.test(token);
}

export function assertClientName(name: string): string {
  if (!isValidClientName(name)) {
    throw new ProtocolError(
      "bad-client-name",
      `client name ${JSON.stringify(name.slice(0, 80))} must be 1-${MAX_CLIENT_NAME_LENGTH} of A-Z a-z 0-9 . _ -`,
    );
  }
  return name;
}

export function assertToken(token: string): string {
  if (!isValidToken(token)) {
    throw new ProtocolError(
      "bad-token",
      `ping token must be 1-${MAX_TOKEN_LENGTH} printable ASCII characters without spaces`,
    );
  }
  return token;
}
