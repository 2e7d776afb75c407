// A single-producer single-consumer async queue with a capacity, for read-ahead pipelines.

export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private closed = false;
  private failure: unknown;
  private failed = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly capacity: (queued: number) => boolean) {}

  /** True once the consumer has given up; the producer should stop. */
  get abandoned(): boolean {
    return this.failed && !this.closed;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Waits until the queue has room (as judged by `capacity`), then adds the item. */
  async push(item: T): Promise<void> {
    while (!this.capacity(this.length) && !this.failed) {
      await new Promise<void>((r) => (this.wakeProducer = r));
    }
    this.items.push(item);
    this.wakeConsumer?.();
  }

  /** No more items will come (or the producer failed, which the consumer will throw). */
  close(err?: unknown): void {
    this.closed = true;
    if (err !== undefined) {
      this.failed = true;
      this.failure = err;
    }
    this.wakeConsumer?.();
  }

  /** Stops the producer from waiting (the consumer gave up). */
  abandon(): void {
    this.failed = true;
    this.wakeProducer?.();
  }

  /** The next item, or undefined once the queue is closed and empty. */
  async shift(): Promise<T | undefined> {
    for (;;) {
      if (this.failed && this.closed) throw this.failure;
      if (this.length > 0) {
        const item = this.items[this.head]!;
        this.items[this.head] = undefined as T;
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items.splice(0, this.head);
          this.head = 0;
        }
        this.wakeProducer?.();
        return item;
      }
      if (this.closed) return undefined;
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
  }
}
