/**
 * Spacewalk's fault codes for registration calls (rhnFault numbers), so clients that know
 * Spacewalk's answers see the same codes from osad2.
 */
export const FAULT_INVALID_SYSTEM = 9; // "Please run rhn_register as root on this client"
export const FAULT_ANONYMOUS_SYSTEM = 28; // anonymous systemids are no longer accepted
export const FAULT_NO_JABBER_ID = 160; // register_osad_jid without jabber-id

export type RegistrationFaultReason =
  | "malformed-systemid"
  | "unknown-system"
  | "bad-checksum"
  | "anonymous"
  | "unsupported-secret"
  | "missing-jabber-id";

/** A registration call refused; becomes an XML-RPC fault with `faultCode` and the message as faultString. */
export class RegistrationFault extends Error {
  override readonly name = "RegistrationFault";
  readonly faultCode: number;
  readonly reason: RegistrationFaultReason;

  constructor(
    faultCode: number,
    reason: RegistrationFaultReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.faultCode = faultCode;
    this.reason = reason;
  }
}

/** The fixed advice Spacewalk gives with fault 9, appended to osad2's more specific message. */
export const REREGISTER_HINT =
  "re-register this system with Spacewalk (rhn_register / rhnreg_ks) to get a valid systemid";
