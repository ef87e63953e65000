// How a strategy sizes an entry, places it (entry order types), exits it (stop loss, take profit) and
// caps what it holds.
import { z } from 'zod'

/** Exactly one of `keys` is set (zod unions report "Invalid input"; this names what is wrong). */
function oneOf(keys: readonly string[], what: string) {
  return (o: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const set = keys.filter((k) => o[k] !== undefined)
    if (set.length !== 1)
      ctx.addIssue({ code: 'custom', message: `${what}: give exactly one of ${keys.join(', ')}${set.length ? ` (got ${set.join(' and ')})` : ''}` })
  }
}

export const StopLoss = z
  .object({
    pct: z.number().gt(0).lt(1).optional().describe('Fraction of the entry fill price, e.g. 0.05'),
    atr: z.number().gt(0).optional().describe('Multiple of an ATR indicator (its value on the signal bar)'),
    indicator: z.string().optional().describe('The atr indicator, with "atr"'),
    price: z.number().gt(0).optional().describe('A fixed stop price'),
  })
  .strict()
  .superRefine(oneOf(['pct', 'atr', 'price'], 'stop_loss'))
  .superRefine((o, ctx) => {
    if ((o.atr === undefined) !== (o.indicator === undefined))
      ctx.addIssue({ code: 'custom', message: 'stop_loss: "atr" and "indicator" go together ({"atr": 2, "indicator": "atr14"})' })
  })
  .describe('Stop distance from the entry fill price: {"pct"} | {"atr", "indicator"} | {"price"}')
export type StopLoss = z.infer<typeof StopLoss>

export const TakeProfit = z
  .object({
    pct: z.number().gt(0).optional().describe('Fraction of the entry fill price'),
    rr: z.number().gt(0).optional().describe('Multiple of the stop distance (needs stop_loss)'),
  })
  .strict()
  .superRefine(oneOf(['pct', 'rr'], 'take_profit'))
export type TakeProfit = z.infer<typeof TakeProfit>

export const Sizing = z
  .object({
    fixed_qty: z.number().gt(0).optional().describe('Units per entry'),
    pct_equity: z.number().gt(0).max(1).optional().describe('Fraction of equity at the signal bar, in whole units'),
    risk_pct: z.number().gt(0).max(1).optional().describe('Fraction of equity lost if the stop is hit (needs stop_loss), in whole units'),
    phase5: z.boolean().optional().describe('Multiply by the Phase-5 factors (NG, Brier, DPI), capped at 25% of equity'),
  })
  .strict()
  .superRefine(oneOf(['fixed_qty', 'pct_equity', 'risk_pct'], 'sizing'))
export type Sizing = z.infer<typeof Sizing>

export const RiskCaps = z
  .object({
    max_lot_size: z.number().gt(0).optional().describe("Clamps this strategy's entry size"),
    max_concurrent_positions: z.int().min(1).optional().describe('Positions this strategy holds at once, across its symbols'),
  })
  .strict()

export const EntryOrderSpec = z
  .object({
    type: z.enum(['market', 'limit', 'stop', 'stop_limit']),
    offset_pct: z.number().min(0).max(0.5).default(0).describe('From the signal close: a long limit below it, a long stop above it (shorts mirrored)'),
    limit_offset_pct: z.number().min(0).max(0.5).default(0).describe('stop_limit: the limit beyond the stop (above it for a long)'),
    valid_bars: z.int().min(1).max(10_000).default(1).describe('Bars from the next one during which it may fill; then it is cancelled (expired)'),
  })
  .strict()
  .describe('How entries are placed (default market: the next open)')
export type EntryOrderSpec = z.infer<typeof EntryOrderSpec>
