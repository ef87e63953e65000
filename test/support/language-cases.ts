// Strategies exercising the whole language of SPEC §5.2, each written once and turned into both a
// paperd account + strategy and the independent reference broker's config, so the backtest, the
// daemon and the reference can be compared on the same bars.
import type { RefConfig } from './reference-strategy-broker.js'

export interface LanguageCase {
  name: string
  /** Account id: lower-case, one account per case so one daemon run can hold them all. */
  account: string
  ref: RefConfig
}

const costs = { commission_pct: 0.001, commission_per_share: 0, commission_min: 1, slippage_bps: 5 }
const smas = { fast: { type: 'sma' as const, period: 10 }, slow: { type: 'sma' as const, period: 30 } }
const up = { crossesAbove: ['fast', 'slow'] as [string, string] }
const down = { crossesBelow: ['fast', 'slow'] as [string, string] }

export const LANGUAGE_CASES: LanguageCase[] = [
  {
    name: 'long and short with reversals, pct stop and pct target',
    account: 'revpct',
    ref: {
      cash: 20_000,
      costs,
      indicators: smas,
      entry: { long: up, short: down },
      exit: { stop_loss: { pct: 0.04 }, take_profit: { pct: 0.08 } },
      sizing: { fixed_qty: 100 },
    },
  },
  {
    name: 'ATR stop, rr target, risk_pct sizing',
    account: 'atrrisk',
    ref: {
      cash: 50_000,
      costs,
      indicators: { ...smas, atr14: { type: 'atr', period: 14 } },
      entry: { long: up, short: down },
      exit: { long: down, short: up, stop_loss: { atr: 2, indicator: 'atr14' }, take_profit: { rr: 2 } },
      sizing: { risk_pct: 0.01 },
    },
  },
  {
    name: 'RSI mean reversion with max_bars and pct_equity',
    account: 'rsimax',
    ref: {
      cash: 10_000,
      costs: { ...costs, slippage_bps: 0 },
      indicators: { rsi: { type: 'rsi', period: 14 } },
      entry: { long: { lt: ['rsi', 35] }, short: { gt: ['rsi', 65] } },
      exit: { long: { gt: ['rsi', 55] }, short: { lt: ['rsi', 45] }, max_bars: 5 },
      sizing: { pct_equity: 0.5 },
    },
  },
  {
    name: 'MACD and Bollinger with forbidden, rr_expectation and a fixed-price stop',
    account: 'macdbb',
    ref: {
      cash: 30_000,
      costs,
      indicators: { macd: { type: 'macd', fast: 12, slow: 26, signal: 9 }, bb: { type: 'bbands', period: 20, stddev: 2 }, hi: { type: 'highest', period: 20 } },
      entry: { long: { all: [{ crossesAbove: ['macd.line', 'macd.signal'] }, { gt: ['close', 'bb.middle'] }] } },
      exit: { long: { any: [{ crossesBelow: ['macd.line', 'macd.signal'] }, { gte: ['high', 'hi'] }] }, stop_loss: { pct: 0.03 }, take_profit: { pct: 0.09 } },
      forbidden: [{ gt: ['close', 'bb.upper'] }],
      rr_expectation: 2.5,
      sizing: { fixed_qty: 50 },
    },
  },
  {
    name: 'short only with a stop gap and a target',
    account: 'shorty',
    ref: {
      cash: 15_000,
      costs: { commission_pct: 0, commission_per_share: 0.01, commission_min: 0, slippage_bps: 10 },
      indicators: { ema: { type: 'ema', period: 20 }, lo: { type: 'lowest', period: 10 } },
      entry: { short: { crossesBelow: ['close', 'ema'] } },
      exit: { short: { crossesAbove: ['close', 'ema'] }, stop_loss: { pct: 0.02 }, take_profit: { pct: 0.05 } },
      sizing: { fixed_qty: 80 },
    },
  },
  {
    name: 'limit entries below/above the close, with a bracket',
    account: 'limits',
    ref: {
      cash: 25_000,
      costs,
      indicators: smas,
      entry: { long: up, short: down },
      exit: { stop_loss: { pct: 0.04 }, take_profit: { pct: 0.06 } },
      entry_order: { type: 'limit', offset_pct: 0.01, valid_bars: 3 },
      sizing: { fixed_qty: 60 },
    },
  },
  {
    name: 'stop-limit breakouts with max_bars',
    account: 'breakout',
    ref: {
      cash: 25_000,
      costs,
      indicators: { top: { type: 'highest', period: 10, source: 'close' }, bottom: { type: 'lowest', period: 10, source: 'close' } },
      entry: { long: { gte: ['close', 'top'] }, short: { lte: ['close', 'bottom'] } },
      exit: { max_bars: 8, stop_loss: { pct: 0.03 } },
      entry_order: { type: 'stop_limit', offset_pct: 0.002, limit_offset_pct: 0.01, valid_bars: 2 },
      sizing: { fixed_qty: 70 },
    },
  },
]

/** The paperd config of a set of cases: one account and one strategy per case, all on `symbol`. */
export function configOf(cases: LanguageCase[], symbol: string) {
  return {
    accounts: cases.map((c) => ({ id: c.account, starting_cash: c.ref.cash, costs: c.ref.costs, risk: { max_lot_size: null } })),
    strategies: cases.map((c) => ({
      id: `s-${c.account}`,
      account: c.account,
      symbols: [symbol],
      timeframe: '1d',
      indicators: c.ref.indicators,
      entry: c.ref.entry,
      exit: c.ref.exit,
      ...(c.ref.forbidden ? { forbidden: c.ref.forbidden } : {}),
      ...(c.ref.entry_order ? { entry_order: c.ref.entry_order } : {}),
      ...(c.ref.rr_expectation !== undefined ? { rr_expectation: c.ref.rr_expectation } : {}),
      sizing: c.ref.sizing,
    })),
  }
}
