// The trading set-up the soak and the chaos run share: per symbol, two accounts that trade it.

/** Per symbol: a fixed-qty account with a stop and a target, and a risk_pct account sized on an ATR stop. */
export function tradingConfig(symbols: string[]) {
  const costs = { commission_pct: 0.001, commission_per_share: 0, commission_min: 1, slippage_bps: 5 }
  const smas = { fast: { type: 'sma', period: 10 }, slow: { type: 'sma', period: 30 } }
  const up = { crossesAbove: ['fast', 'slow'] }
  const down = { crossesBelow: ['fast', 'slow'] }
  return {
    accounts: symbols.flatMap((s) => [
      { id: `fixed-${s.toLowerCase()}`, starting_cash: 20_000, costs, risk: { max_lot_size: null } },
      { id: `atr-${s.toLowerCase()}`, starting_cash: 50_000, costs, risk: { max_lot_size: null } },
    ]),
    strategies: symbols.flatMap((s) => [
      {
        id: `bracket-${s.toLowerCase()}`,
        account: `fixed-${s.toLowerCase()}`,
        symbols: [s],
        timeframe: '1d',
        indicators: smas,
        entry: { long: up, short: down },
        exit: { stop_loss: { pct: 0.04 }, take_profit: { pct: 0.08 } },
        sizing: { fixed_qty: 100 },
      },
      {
        id: `atr-${s.toLowerCase()}`,
        account: `atr-${s.toLowerCase()}`,
        symbols: [s],
        timeframe: '1d',
        indicators: { ...smas, atr14: { type: 'atr', period: 14 } },
        entry: { long: up, short: down },
        exit: { long: down, short: up, stop_loss: { atr: 2, indicator: 'atr14' }, take_profit: { rr: 2 } },
        sizing: { risk_pct: 0.01 },
      },
    ]),
  }
}
