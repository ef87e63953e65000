// An independent reference for the canonical strategy: a deliberately naive bar loop, written
// without any of paperd's code. SMA by summing the window every bar; a cross signal on bar i is a
// market order filled at the open of bar i+1; percentage commission; a buy that cash cannot cover
// at its fill is skipped; signals look at the position actually held (like backtrader's
// `if not self.position`). paperd's trades must equal its fills exactly.
export interface RefBar {
  ts: string
  open: number
  high: number
  low: number
  close: number
}
export interface RefFill {
  ts: string
  side: 'buy' | 'sell'
  qty: number
  price: number
  commission: number
}

export function smaCrossReference(bars: RefBar[], o: { fast: number; slow: number; qty: number; cash: number; commissionPct: number }) {
  const sma = (i: number, n: number): number | undefined => {
    if (i + 1 < n || i < 0) return undefined
    let sum = 0
    for (let k = i - n + 1; k <= i; k++) sum += bars[k]!.close
    return sum / n
  }
  let cash = o.cash
  let held = 0
  let pending: 'buy' | 'sell' | null = null
  const fills: RefFill[] = []
  for (let i = 0; i < bars.length; i++) {
    const bar = bars[i]!
    if (pending) {
      const price = bar.open
      if (pending === 'buy') {
        const commission = o.qty * price * o.commissionPct
        if (o.qty * price + commission <= cash) {
          cash = cash - o.qty * price - commission
          held = o.qty
          fills.push({ ts: bar.ts, side: 'buy', qty: o.qty, price, commission })
        }
      } else if (held > 0) {
        const commission = held * price * o.commissionPct
        cash = cash + held * price - commission
        fills.push({ ts: bar.ts, side: 'sell', qty: held, price, commission })
        held = 0
      }
      pending = null
    }
    const f = sma(i, o.fast),
      s = sma(i, o.slow),
      pf = sma(i - 1, o.fast),
      ps = sma(i - 1, o.slow)
    if (f === undefined || s === undefined || pf === undefined || ps === undefined) continue
    if (held === 0 && pf <= ps && f > s) pending = 'buy'
    else if (held > 0 && pf >= ps && f < s) pending = 'sell'
  }
  return { fills, cash, held }
}
