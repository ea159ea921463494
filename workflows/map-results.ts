import type { ChunkRef, MapProgress, ValuesRef } from './protocol';

/** Where a map keeps its item results outside history: the worker's artifact store, through local activities. */
export interface ValueStore {
  put(entries: Array<[number, unknown]>): Promise<ChunkRef>;
  join(request: { chunks: ChunkRef[]; count: number }): Promise<ValuesRef>;
}

/** Results buffered past this many bytes of JSON go to the artifact store (payloads warn at 256 KB). */
export const SPILL_BYTES = 128 * 1024;

/**
 * One map's item results. Without a store (runs started before maps spilled) they stay in memory
 * and the map's output is the list; with one, they are written out in chunks whenever the buffer
 * grows past SPILL_BYTES and before continue-as-new, and the output is then a reference.
 */
export class MapResults {
  private readonly done: boolean[];
  private readonly chunks: ChunkRef[];
  private buffer: Array<[number, unknown]> = [];
  private bytes = 0;
  private writes: Promise<void> = Promise.resolve();
  /** Items finished, in this generation and the ones before. */
  finished = 0;

  constructor(
    readonly id: string,
    readonly count: number,
    carried: MapProgress | undefined,
    private readonly store?: ValueStore,
  ) {
    this.done = new Array<boolean>(count).fill(false);
    for (const [from, to] of carried?.done ?? []) {
      for (let i = from; i <= to; i++) this.done[i] = true;
      this.finished += to - from + 1;
    }
    this.chunks = [...(carried?.chunks ?? [])];
  }

  has(index: number): boolean {
    return this.done[index] === true;
  }

  /** True when `node` (an instance id) belongs to an item whose result is kept here. */
  holds(node: string): boolean {
    if (!node.startsWith(`${this.id}[`)) return false;
    const end = node.indexOf(']', this.id.length + 1);
    return this.has(Number(node.slice(this.id.length + 1, end)));
  }

  async add(index: number, value: unknown): Promise<void> {
    this.done[index] = true;
    this.finished++;
    this.buffer.push([index, value]);
    this.bytes += JSON.stringify(value ?? null).length;
    if (this.store && this.bytes >= SPILL_BYTES) await this.flush();
  }

  /** Writes the buffered results out; writes run one after another so that none is lost or doubled. */
  flush(): Promise<void> {
    const store = this.store;
    if (!store) return this.writes;
    this.writes = this.writes.then(async () => {
      if (!this.buffer.length) return;
      const entries = this.buffer;
      this.buffer = [];
      this.bytes = 0;
      this.chunks.push(await store.put(entries));
    });
    return this.writes;
  }

  async progress(): Promise<MapProgress> {
    await this.flush();
    const done: Array<[number, number]> = [];
    for (let i = 0; i < this.count; i++) {
      if (!this.done[i]) continue;
      const last = done.at(-1);
      if (last && last[1] === i - 1) last[1] = i;
      else done.push([i, i]);
    }
    return { done, chunks: [...this.chunks] };
  }

  /** The joined results in item order: the list while it is small and all here, else a reference. */
  async output(): Promise<unknown[] | ValuesRef> {
    await this.writes;
    if (!this.store || (this.chunks.length === 0 && this.bytes < SPILL_BYTES)) {
      const values = new Array<unknown>(this.count).fill(null);
      for (const [index, value] of this.buffer) values[index] = value;
      return values;
    }
    await this.flush();
    return this.store.join({ chunks: this.chunks, count: this.count });
  }
}
