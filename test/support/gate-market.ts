// A market for the risk gate's handler tests: daily bars of a few symbols in one MD stream (each day,
// each symbol in turn), and the gate run as the runtime runs it — what its lookup names is read
// from these bars before the handler is called. Ideas and fills name their bar by its stream position
// (`seqOf`), as the strategy and the executor do.
import type { FoundBar, Inbound } from '../../src/core/actor.js'
import type { AccountConfig } from '../../src/core/config-file/accounts.js'
import { lookupInMemory } from '../../src/runtime/bar-tape.js'
import { handleRisk } from '../../actors/risk-gate.js'
import type { RiskState } from '../../actors/risk-gate/state.js'
import { riskLookup } from '../../actors/risk-gate/turns.js'
import type { Watchlists } from '../../actors/risk-gate/watchlists.js'
import { message } from './messages.js'

export const SYMBOLS = ['ORCL', 'AAPL', 'AAA', 'BBB', 'MSFT', 'SPY', 'TLT'] as const

export const dayTs = (d: number, h = 0) => new Date(Date.UTC(2024, 0, d, h)).toISOString()

export interface Ohlc {
  open: number
  high: number
  low: number
  close: number
}

export class TestMarket {
  private readonly bySymbol = new Map<string, FoundBar[]>()
  private readonly at = new Map<string, FoundBar>()

  /** `days` daily bars of every symbol, all at 50 unless `price` says otherwise. */
  constructor(days = 60, symbols: readonly string[] = SYMBOLS, price: (symbol: string, d: number) => Partial<Ohlc> = () => ({})) {
    let seq = 0
    for (let d = 1; d <= days; d++) {
      for (const symbol of symbols) {
        const p = { open: 50, high: 50, low: 50, close: 50, ...price(symbol, d) }
        const ts = dayTs(d)
        const bar = message('md.bar', {
          id: `bar:${symbol}:1d:${ts}`,
          ts,
          causation_id: `in:${symbol}:1d:${ts}`,
          correlation_id: `bar:${symbol}:1d:${ts}`,
          symbol,
          open: p.open,
          high: Math.max(p.high, p.open, p.close),
          low: Math.min(p.low, p.open, p.close),
          close: p.close,
          volume: 1000,
        })
        const f = { seq: ++seq, bar }
        let list = this.bySymbol.get(symbol)
        if (!list) this.bySymbol.set(symbol, (list = []))
        list.push(f)
        this.at.set(`${symbol}|${d}`, f)
      }
    }
  }

  /** The stream position of `symbol`'s bar of day `d`. */
  seqOf(symbol: string, d: number): number {
    const f = this.at.get(`${symbol}|${d}`)
    if (!f) throw new Error(`no ${symbol} bar on day ${d}`)
    return f.seq
  }

  /** Changes the prices of a bar (before the gate looks it up). */
  set(symbol: string, d: number, p: Partial<Ohlc>): this {
    const f = this.at.get(`${symbol}|${d}`)!
    const bar = { ...f.bar, ...p }
    bar.high = Math.max(bar.high, bar.open, bar.close)
    bar.low = Math.min(bar.low, bar.open, bar.close)
    f.bar = bar
    return this
  }

  /** The gate's handler, its lookups answered from this market. */
  gate(account: AccountConfig, lists?: Watchlists) {
    return (state: RiskState, input: Inbound) => {
      const lookups = riskLookup(state, input)
      return handleRisk(state, input, account, lists, lookups ? lookupInMemory((s) => this.bySymbol.get(s), lookups) : [])
    }
  }
}
