// Long synchronous walks (tens of thousands of lstat calls, each far cheaper than an
// awaited fs/promises call) give the event loop a turn now and then.

const EVERY = 2000;

/** Counts work units and yields to the event loop every few thousand. */
export class Yielder {
  private n = 0;
  async tick(): Promise<void> {
    if (++this.n % EVERY === 0) await new Promise((r) => setImmediate(r));
  }
}
