// A least-recently-used map bounded by the total size of its values (bytes, as the caller counts them). Pure.

export class SizedLru<V> {
  private readonly entries = new Map<string, { value: V; size: number }>();
  private bytes = 0;

  /** `limitBytes` is read on every insert, so a limit from the environment can change between calls. */
  constructor(private readonly limitBytes: () => number) {}

  get size(): number {
    return this.bytes;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, e);
    return e.value;
  }

  /** Keeps `value` unless it alone would take more than a quarter of the limit; evicts the least recently used beyond the limit. */
  set(key: string, value: V, size: number): void {
    const limit = this.limitBytes();
    this.delete(key);
    if (size > limit / 4) return;
    this.entries.set(key, { value, size });
    this.bytes += size;
    for (const [k] of this.entries) {
      if (this.bytes <= limit) break;
      this.delete(k);
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.size;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
