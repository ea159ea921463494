/** A counting semaphore: at most `size` holders; `idle` resolves when none is left. */
export class Slots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly drained: Array<() => void> = [];

  constructor(private readonly size: number) {}

  acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((granted) => this.waiting.push(granted));
  }

  release(): void {
    const next = this.waiting.shift();
    // Handed straight to the next waiter: the count stays as it is.
    if (next) return next();
    this.held--;
    if (this.held === 0) for (const done of this.drained.splice(0)) done();
  }

  idle(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((done) => this.drained.push(done));
  }
}
