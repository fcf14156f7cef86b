/** Open WebSocket connections or subscriptions per API key, against a limit (src/http/ws.ts). */
export class KeyCounts {
  private counts = new Map<string, number>();

  /** Counts one more for `key` unless it has `max` already; answers whether it did. */
  tryAdd(key: string, max: number): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  remove(key: string): void {
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }
}
