/**
 * Spacewalk's fault codes for registration calls as they appear on the wire. Spacewalk raises
 * `rhnFault(9)`, and its `getxml()` sends the code negated, so clients written for Spacewalk
 * compare against -9, -28 and -160.
 */
export const FAULT_INVALID_SYSTEM = -9; // "Please run rhn_register as root on this client"
export const FAULT_ANONYMOUS_SYSTEM = -28; // anonymous systemids are no longer accepted
export const FAULT_NO_JABBER_ID = -160; // register_osad_jid without jabber-id

export type RegistrationFaultReason =
  | "malformed-systemid"
  | "unknown-system"
  | "bad-checksum"
  | "anonymous"
  | "unsupported-secret"
  | "missing-jabber-id";

/** Spacewalk's text for each registration fault: its "Error Message" and "Error Class Info". */
const SPACEWALK_TEXTS: Readonly<
  Record<number, { readonly message: string; readonly info: string }>
> = {
  [FAULT_INVALID_SYSTEM]: {
    message: "Please run rhn_register as root on this client",
    info: "Invalid System Credentials.",
  },
  [FAULT_ANONYMOUS_SYSTEM]: {
    message: "Anonymous systems are not accepted",
    info: "The anonymous server functionality is no longer available. Please re-register this system by running rhn_register as root.",
  },
  [FAULT_NO_JABBER_ID]: {
    message: "No jabber-id specified",
    info: "Required argument is missing",
  },
};

/**
 * The faultString Spacewalk's rhnFault.getxml() writes, line by line: a blank first line,
 * "Error Message:" with the text indented, "Error Class Code: <positive code>", "Error Class
 * Info: …" and an "Explanation:" (osad2 puts its specific reason there). Spacewalk's client
 * libraries look for "Error Class Code: 9" in this text.
 */
export function spacewalkFaultString(faultCode: number, detail: string): string {
  const text = SPACEWALK_TEXTS[faultCode];
  const lines = [""];
  if (text !== undefined) lines.push("Error Message:", `    ${text.message}`);
  lines.push(`Error Class Code: ${Math.abs(faultCode)}`);
  if (text !== undefined) lines.push(`Error Class Info: ${text.info}`);
  lines.push(`Explanation: ${detail}`, "");
  return lines.join("\n");
}

/**
 * A registration call refused; becomes an XML-RPC fault with `faultCode` (negative, as
 * Spacewalk sends it) and Spacewalk's multi-line text as faultString (the message). `detail`
 * holds osad2's specific reason alone.
 */
export class RegistrationFault extends Error {
  override readonly name = "RegistrationFault";
  readonly faultCode: number;
  readonly reason: RegistrationFaultReason;
  readonly detail: string;

  constructor(
    faultCode: number,
    reason: RegistrationFaultReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(spacewalkFaultString(faultCode, detail), options);
    this.faultCode = faultCode;
    this.reason = reason;
    this.detail = detail;
  }
}

/** The fixed advice Spacewalk gives with fault -9, appended to osad2's more specific reason. */
export const REREGISTER_HINT =
  "re-register this system with Spacewalk (rhn_register / rhnreg_ks) to get a valid systemid";
