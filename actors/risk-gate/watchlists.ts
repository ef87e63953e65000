// Which symbols each strategy watches: an entry off its strategy's watchlist needs a person's
// approval unless the risk config allows it.
import type { AnyStrategyConfig } from '../../src/core/config-file/strategies.js'
import { DEFAULT_SYMBOLS } from '../../src/core/gayed-roles.js'

/** Strategy id → the symbols it watches (off-watchlist ideas need approval). */
export type Watchlists = Pick<ReadonlyMap<string, ReadonlySet<string>>, 'get' | 'has'>
export const EMPTY: ReadonlySet<string> = new Set()
const GAYED_DEFAULT_SYMBOLS = Object.values(DEFAULT_SYMBOLS)

/** Each strategy's watchlist: its symbols (a Gayed strategy: its inputs and what it may hold). */
export function watchlistsOf(strategies: readonly AnyStrategyConfig[]): Watchlists {
  return new Map(
    strategies.map((s) => [
      s.id,
      new Set(s.type === 'gayed' ? [...Object.values(s.inputs).filter((v): v is string => !!v), ...GAYED_DEFAULT_SYMBOLS, s.risk_on, s.defensive] : s.symbols),
    ]),
  )
}

/** The config file's watchlists and those of the strategies defined at runtime (ctl.strategies.put). */
export function withRuntime(
  lists: Watchlists | undefined,
  runtime: Readonly<Record<string, { symbols: readonly string[] }>> | undefined,
): Watchlists | undefined {
  if (!runtime) return lists
  return {
    get: (id) => lists?.get(id) ?? (runtime[id] ? new Set(runtime[id].symbols) : undefined),
    has: (id) => lists?.has(id) === true || runtime[id] !== undefined,
  }
}
