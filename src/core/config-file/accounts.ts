// Accounts: starting cash, costs (commission, slippage, volume cap) and risk limits. A risk field is
// declared in `Risk` and judged in actors/risk-gate/limits.ts.
import { z } from 'zod'
import { ACCOUNT_PATTERN } from '../schemas.js'

export const Costs = z
  .object({
    commission_pct: z.number().min(0).max(1).default(0).describe('Fraction of notional, e.g. 0.001 = 0.1%'),
    commission_per_share: z.number().min(0).default(0),
    commission_min: z.number().min(0).default(0),
    slippage_bps: z.number().min(0).max(10_000).default(0).describe('Against the trader, in basis points of the fill price'),
    volume_cap_pct: z
      .number()
      .gt(0)
      .max(1)
      .nullable()
      .default(null)
      .describe('A fill takes at most this share of the bar volume, the rest fills on the next bars; null = no cap'),
  })
  .strict()
export type Costs = z.infer<typeof Costs>

export const Risk = z
  .object({
    ai_trading_enabled: z.boolean().default(true).describe('Kill switch: false → no new entry executes without approval'),
    min_confidence_threshold: z.number().min(0).max(100).default(0),
    max_lot_size: z.number().gt(0).nullable().default(null).describe('Max quantity per order; null = no limit'),
    max_concurrent_trades: z.int().min(0).nullable().default(null).describe('Open positions + working entries; null = no limit'),
    daily_profit_target: z.number().nullable().default(null),
    stop_after_target: z.boolean().default(false),
    max_drawdown_amount: z.number().min(0).nullable().default(null),
    halt_on_drawdown: z.boolean().default(false),
    allow_off_watchlist_autotrade: z.boolean().default(false),
    max_notional_per_order: z.number().gt(0).nullable().default(null).describe('Max qty × price of an entry; null = no limit'),
    max_orders_per_day: z.int().min(1).nullable().default(null).describe('Entries passed per bar-time UTC day; null = no limit'),
    approval_timeout_minutes: z.number().gt(0).default(1440).describe('An idea waiting for approval longer than this (in bar time) is rejected'),
  })
  .strict()
export type RiskConfig = z.infer<typeof Risk>
/** Risk settings as JSON with their keys sorted: the same settings give the same text (how the gate tells a changed config file). */
export const riskSettingsText = (risk: Readonly<Record<string, unknown>>): string =>
  JSON.stringify(Object.fromEntries(Object.entries(risk).sort(([a], [b]) => (a < b ? -1 : 1))))
/** What ctl.risk.set accepts: any subset of the risk fields, each validated like the config file's. */
export const RiskPatch = Risk.partial().strict()

export const Account = z
  .object({
    id: z.string().regex(new RegExp(ACCOUNT_PATTERN), 'lower-case letters, digits, _ and -, at most 32'),
    starting_cash: z.number().gt(0),
    costs: Costs.default(Costs.parse({})),
    risk: Risk.default(Risk.parse({})),
  })
  .strict()
export type AccountConfig = z.infer<typeof Account>
