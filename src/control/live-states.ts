// The runtime's map of live scope states (Io.states: `<actor>.<scope>` → its current state), told to
// whoever watches when a scope goes live or stops. The control plane registers a process as the
// owner of an account exactly while its scope runs here, without the runtime knowing about it.
type StateWatcher = (key: string, live: boolean) => void

export class LiveStates extends Map<string, () => unknown> {
  readonly #watchers = new Set<StateWatcher>()

  /** Calls `fn` whenever a key appears or disappears; returns how to stop watching. */
  watch(fn: StateWatcher): () => void {
    this.#watchers.add(fn)
    return () => this.#watchers.delete(fn)
  }

  override set(key: string, read: () => unknown): this {
    const added = !this.has(key)
    super.set(key, read)
    if (added) for (const fn of this.#watchers) fn(key, true)
    return this
  }

  override delete(key: string): boolean {
    const had = super.delete(key)
    if (had) for (const fn of this.#watchers) fn(key, false)
    return had
  }
}
