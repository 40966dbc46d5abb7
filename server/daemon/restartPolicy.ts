// When to restart a crashed inference worker: at once after a lone crash, then with a doubling delay,
// and not at all after too many crashes in a short time (a checkpoint that crashes on every load).

export interface RestartVerdict {
  restart: boolean;
  /** Wait before starting the new worker. */
  delayMs: number;
  /** Crashes within the window, this one included. */
  recent: number;
}

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    readonly limit = 5,
    readonly windowMs = 60_000,
    private readonly baseDelayMs = 250,
    private readonly maxDelayMs = 8_000,
  ) {}

  crashed(now: number): RestartVerdict {
    this.crashes = [...this.crashes.filter((t) => now - t < this.windowMs), now];
    const recent = this.crashes.length;
    if (recent >= this.limit) return { restart: false, delayMs: 0, recent };
    return { restart: true, delayMs: recent === 1 ? 0 : Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (recent - 2)), recent };
  }

  /** A fresh start (the user chose a model again): past crashes no longer count. */
  reset(): void { this.crashes = []; }
}
