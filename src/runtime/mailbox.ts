// A scope's mailbox: consumer loops push, one processing loop takes everything that is waiting (up
// to a limit) as the next batch. Natural batching: under load batches grow, when idle a single
// message goes through at once.
export class Mailbox<T> {
  private items: T[] = []
  private waiter: (() => void) | null = null
  private closed = false

  push(item: T): void {
    this.items.push(item)
    this.wake()
  }

  close(): void {
    this.closed = true
    this.wake()
  }

  /** The next batch, or null once closed and empty. */
  async take(max: number): Promise<T[] | null> {
    while (this.items.length === 0) {
      if (this.closed) return null
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
    return this.items.length <= max ? this.items.splice(0) : this.items.splice(0, max)
  }

  /** Like take, but an empty batch when nothing has come within `idleMs` (the scope is idle). */
  async takeWithin(max: number, idleMs: number): Promise<T[] | null> {
    if (this.items.length === 0 && !this.closed) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await new Promise<void>((resolve) => {
        this.waiter = resolve
        timer = setTimeout(resolve, idleMs)
      })
      clearTimeout(timer)
      this.waiter = null
      if (this.items.length === 0 && !this.closed) return []
    }
    return this.take(max)
  }

  /**
   * The next batch; when fewer than `enough` are waiting, it waits `lingerMs` for more to join it
   * (a sink commits a transaction per batch: a few milliseconds spare it hundreds of tiny ones).
   */
  async takeLingering(max: number, enough: number, lingerMs: number): Promise<T[] | null> {
    const batch = await this.take(max)
    if (!batch || batch.length >= enough || this.closed) return batch
    await new Promise((resolve) => setTimeout(resolve, lingerMs))
    if (this.items.length) batch.push(...this.items.splice(0, max - batch.length))
    return batch
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = null
    w?.()
  }
}
