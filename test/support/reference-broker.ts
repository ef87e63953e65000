// An independent reference for the canonical strategy: a deliberately naive bar loop, written
// without any of paperd's code. SMA by summing the window every bar, exactly (BigInt, in units of
// 2^-192, every price being a multiple of it), rounded once and divided by n — backtrader's
// `math.fsum(window) / n`; a crossing as backtrader's CrossOver: above now, and below at the last bar
// where the two differed; a cross signal on bar i is a market order filled at the open of bar i+1; percentage commission; a buy that cash cannot cover
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
    let sum = 0n
    for (let k = i - n + 1; k <= i; k++) sum += BigInt(bars[k]!.close * 2 ** 192)
    return Number(sum) / 2 ** 192 / n
  }
  /** fast − slow at the last bar before this one where it was not 0. */
  let lastDiff = 0
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
      s = sma(i, o.slow)
    if (f === undefined || s === undefined) continue
    if (sma(i - 1, o.fast) !== undefined && sma(i - 1, o.slow) !== undefined) {
      if (held === 0 && lastDiff < 0 && f > s) pending = 'buy'
      else if (held > 0 && lastDiff > 0 && f < s) pending = 'sell'
    }
    if (f - s !== 0) lastDiff = f - s
  }
  return { fills, cash, held }
}
