/**
 * The pool's two counters for one job type: `Slots`, the handlers allowed to run at once (exactly the
 * configured concurrency; an attempt gives its slot back when it ends, also one aborted by a timeout or
 * cancel whose handler ignores its signal and runs on), and `Turnover`, how fast those slots are being given back, which sets how many
 * claimed jobs may wait for one (the local queue).
 */

/** A slot taken later: `got` resolves true with the slot, or false if `cancel()` came first. */
export interface SlotWait {
  got: Promise<boolean>;
  cancel(): void;
}

/** A counting semaphore with a first-come queue: never more than `size` holders at once. */
export class Slots {
  #free: number;
  readonly #queue: ((got: boolean) => void)[] = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Holders now. */
  get inUse(): number {
    return this.size - this.#free;
  }

  /** Takes a free slot at once (true) unless none is free or others are waiting (false). */
  tryTake(): boolean {
    if (this.#free === 0 || this.#queue.length) return false;
    this.#free--;
    return true;
  }

  /** Waits in line for a slot. */
  take(): SlotWait {
    let entry: ((got: boolean) => void) | null = null;
    const got = new Promise<boolean>((resolve) => {
      entry = resolve;
      this.#queue.push(resolve);
    });
    return {
      got,
      cancel: () => {
        const i = this.#queue.indexOf(entry!);
        if (i < 0) return; // already given a slot: the holder gives it back
        this.#queue.splice(i, 1);
        entry!(false);
      },
    };
  }

  /** Gives a slot back: to the longest waiter, or to the free count. */
  give(): void {
    const next = this.#queue.shift();
    if (next) next(true);
    else this.#free++;
  }
}

/**
 * Slots given back over the last `horizonMs` (the previous window's count, or the current one's once it is
 * larger: those all came within the last `horizonMs`): how many claimed jobs can be expected to start within
 * about that long. Idle or long-running handlers give 0, so a job is only claimed ahead of a free slot while
 * slots turn over quickly.
 */
export class Turnover {
  #windowStart = Date.now();
  #inWindow = 0;
  #last = 0;

  constructor(readonly horizonMs: number) {}

  /** A slot was given back. */
  note(): void {
    this.#roll();
    this.#inWindow++;
  }

  /** Slot returns expected within the next `horizonMs`, at the recent rate. */
  expected(): number {
    this.#roll();
    return Math.max(this.#last, this.#inWindow);
  }

  #roll(): void {
    const elapsed = Date.now() - this.#windowStart;
    if (elapsed < this.horizonMs) return;
    this.#last = elapsed < 2 * this.horizonMs ? Math.floor((this.#inWindow * this.horizonMs) / elapsed) : 0;
    this.#inWindow = 0;
    this.#windowStart += elapsed;
  }
}
