import type { Logger } from "@osad2/service-kit";

/** Decides whether a key may connect: one allow-list of a key store. */
export interface KeyAuthorizer {
  /** True when the Z85 public key is on the allow-list and not revoked. */
  has(publicKeyZ85: string): boolean;
  /** Rescans the allow-list (called when an unknown key knocks, at most every rescanGapMs). */
  reload?(): Promise<void>;
  /** Told each key let in: a re-issued system's new key retires its old one (KeyStore.admitted). */
  admitted?(publicKeyZ85: string): void;
}

/** Default minimum time between the starts of rescans triggered by unknown keys. */
export const DEFAULT_RESCAN_GAP_MS = 500;

/**
 * Asks one allow-list about a key, rescanning it once for a key it does not know: a key added
 * a moment ago (osad2-packager, cp) may not be seen by the watcher yet, and a refused libzmq
 * peer does not retry. The rescan starts after the question arrived, and rescans start at most
 * every gapMs however many unknown keys knock.
 */
export class AllowListCheck {
  /** The next rescan, not started yet; questions arriving now wait for it. */
  private next: Promise<boolean> | undefined;
  private lastStart = 0;

  constructor(
    readonly keys: KeyAuthorizer,
    private readonly logger: Logger,
    private readonly gapMs = DEFAULT_RESCAN_GAP_MS,
  ) {}

  async allowed(publicKey: string): Promise<boolean> {
    const keys = this.keys;
    if (keys.has(publicKey)) return true;
    if (keys.reload === undefined) return false;
    return (await this.rescan()) && keys.has(publicKey);
  }

  private rescan(): Promise<boolean> {
    if (this.next !== undefined) return this.next;
    const delay = Math.max(0, this.lastStart + this.gapMs - Date.now());
    const scan = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(async () => {
      this.next = undefined;
      this.lastStart = Date.now();
      try {
        await this.keys.reload?.();
        return true;
      } catch (error) {
        this.logger.warn({ err: error }, "key store rescan failed");
        return false;
      }
    });
    this.next = scan;
    return scan;
  }
}
