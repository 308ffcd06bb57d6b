interface Held<V> {
  value: V;
  /** Read since eviction last passed over it. */
  used: boolean;
}

/**
 * A bounded map for hot-path caches: when full, the oldest entry read since eviction last passed
 * over it gets a second chance (it goes to the back, unread), and the oldest unread one goes. That
 * is least recently used first out, approximately, but a read writes only a flag.
 *
 * The usual LRU over a Map moves every hit to the back (delete, then set). On a long-lived Map that
 * reallocates its hash table every few reads, and V8 allocates an old Map's table directly in old
 * space: one such cache on the gateway's hot path filled old space at every request and brought a
 * full mark-compact about once a second under load.
 *
 * An eviction moves every entry read since the last pass to the back on its way to an unread one,
 * so one eviction can rewrite the whole map; over time it moves no more entries than there were
 * reads, each once.
 */
export class SecondChanceMap<K, V> {
  private readonly entries = new Map<K, Held<V>>();

  /** `onEvict` hears of every entry pushed out to make room (not of those deleted). */
  constructor(
    private readonly capacity: number,
    private readonly onEvict: (key: K, value: V) => void = () => undefined,
  ) {}

  /** The value under `key`, marked as read. */
  get(key: K): V | undefined {
    const held = this.entries.get(key);
    if (!held) return undefined;
    held.used = true;
    return held.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Puts `value` under `key` (in place when the key is there), pushing one entry out when full. */
  set(key: K, value: V): void {
    const held = this.entries.get(key);
    if (held) {
      held.value = value;
      return;
    }
    if (this.entries.size >= this.capacity) this.evictOne();
    this.entries.set(key, { value, used: false });
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private evictOne(): void {
    for (const [key, held] of this.entries) {
      this.entries.delete(key);
      if (!held.used) return this.onEvict(key, held.value);
      held.used = false;
      this.entries.set(key, held);
    }
  }
}
