// A small least-recently-used map with a size limit.

export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private capacity: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    this.trim();
  }

  delete(key: K): void { this.map.delete(key); }
  clear(): void { this.map.clear(); }
  get size(): number { return this.map.size; }
  values(): IterableIterator<V> { return this.map.values(); }

  resize(capacity: number): void {
    this.capacity = Math.max(0, capacity);
    this.trim();
  }

  private trim(): void {
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
}
