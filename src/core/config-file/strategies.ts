// Strategies: one written in the condition language (rules) or the built-in Gayed consensus.
import { z } from 'zod'
import { GAYED_ROLES, type GayedRole } from '../gayed-roles.js'
import { IndicatorDecl } from '../indicator-kinds.js'
import { SYMBOL_PATTERN, TIMEFRAME_PATTERN, TIMEFRAME_RULE } from '../schemas.js'
import { ConditionSchema } from './conditions.js'
import { EntryOrderSpec, RiskCaps, Sizing, StopLoss, TakeProfit } from './sizing-and-exits.js'
import { SessionWindow } from './sessions.js'

export const Confidence = z
  .object({
    base: z.number().min(0).max(100),
    adjust: z.array(z.object({ when: ConditionSchema, add: z.number() }).strict()).default([]),
  })
  .strict()
  .describe('Deterministic confidence 0–100: base plus every adjust whose condition holds, clamped; absent = 100')

export const StrategyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64')
export const SymbolName = z.string().regex(new RegExp(SYMBOL_PATTERN), 'symbols are A-Z 0-9 _ - (write BRK.B as BRK-B)')

const RulesStrategy = z
  .object({
    type: z.literal('rules').default('rules').describe('A strategy written in the condition language (the default)'),
    id: StrategyId,
    account: z.string(),
    symbols: z.array(SymbolName).min(1),
    timeframe: z.string().regex(new RegExp(TIMEFRAME_PATTERN), TIMEFRAME_RULE).default('1d'),
    indicators: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'names start with a letter; letters, digits, _'), IndicatorDecl).default({}),
    entry: z
      .object({ long: ConditionSchema.optional(), short: ConditionSchema.optional() })
      .strict()
      .refine((e) => e.long !== undefined || e.short !== undefined, 'give "long", "short" or both'),
    exit: z
      .object({
        long: ConditionSchema.optional(),
        short: ConditionSchema.optional(),
        stop_loss: StopLoss.optional(),
        take_profit: TakeProfit.optional(),
        max_bars: z.int().min(1).optional().describe('Held for at most this many bars: the exit fills at the open of the max_bars-th bar after the fill bar'),
      })
      .strict()
      .default({}),
    entry_order: EntryOrderSpec.optional(),
    session_windows: z.array(SessionWindow).min(1).optional(),
    forbidden: z.array(ConditionSchema).optional().describe('No entry while any of these holds'),
    risk_caps: RiskCaps.optional(),
    rr_expectation: z.number().gt(0).optional().describe('Minimum reward:risk (target distance ÷ stop distance) for an entry'),
    sizing: Sizing,
    confidence: Confidence.optional(),
  })
  .strict()
export type StrategyConfig = z.infer<typeof RulesStrategy>

const GayedRoles = z
  .object(
    Object.fromEntries(GAYED_ROLES.map((r) => [r, SymbolName.nullable().optional()])) as Record<GayedRole, z.ZodOptional<z.ZodNullable<typeof SymbolName>>>,
  )
  .strict()
  .describe('Symbol per input (defaults SPY XLU WOOD GLD IEF TLT VIX); null switches the signals that read it off')

const GayedStrategy = z
  .object({
    type: z.literal('gayed').describe('The built-in Gayed Risk-On/Risk-Off consensus'),
    id: StrategyId,
    account: z.string(),
    timeframe: z.literal('1d').default('1d'),
    inputs: GayedRoles.default({}),
    params: z
      .object({
        utilities_lookback: z.int().min(1).max(1000).optional(),
        lumber_lookback: z.int().min(1).max(1000).optional(),
        treasury_lookback: z.int().min(1).max(1000).optional(),
        vix_threshold: z.number().gt(0).optional(),
        ma_short: z.int().min(1).max(1000).optional(),
        ma_long: z.int().min(1).max(1000).optional(),
      })
      .strict()
      .default({}),
    risk_on: SymbolName.default('SPY').describe('Held in Risk-On'),
    defensive: SymbolName.default('TLT').describe('Held in Risk-Off'),
    sizing: Sizing.default({ pct_equity: 0.95 }),
    confidence: z.object({}).strict().optional().describe('Not used: an idea carries the consensus confidence'),
  })
  .strict()
export type GayedConfig = z.infer<typeof GayedStrategy>

export const Strategy = z.discriminatedUnion('type', [RulesStrategy, GayedStrategy])
export type AnyStrategyConfig = z.infer<typeof Strategy>

/** The strategies written in the condition language (the ones that declare indicators). */
export const rulesOf = (strategies: readonly AnyStrategyConfig[]): StrategyConfig[] => strategies.filter((s): s is StrategyConfig => s.type === 'rules')
export const gayedOf = (strategies: readonly AnyStrategyConfig[]): GayedConfig[] => strategies.filter((s): s is GayedConfig => s.type === 'gayed')
