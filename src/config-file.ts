// The JSON config file (SPEC §5.2): accounts with costs and risk limits, and strategies written in a
// small JSON condition language. One zod schema; schemas/config.json is generated from it for editors
// and other tools. Cross-references (accounts, indicator names) are checked after the shape.
import { z } from 'zod'
import { DPI_MIN_PERIOD } from '../actors/lib/indicators/dpi.js'
import { MAX_PERIOD, outputsOf } from '../actors/lib/indicators/index.js'
import { ACCOUNT_PATTERN, SYMBOL_PATTERN, TIMEFRAME_PATTERN } from './contracts.js'

const Operand = z
  .union([z.string(), z.number()])
  .describe('An indicator name ("fast", "macd.signal"), a bar field (open, high, low, close, volume) or a number')
const Pair = z.tuple([Operand, Operand])

export type Operand = z.infer<typeof Operand>
export type Condition =
  | { gt: [Operand, Operand] }
  | { gte: [Operand, Operand] }
  | { lt: [Operand, Operand] }
  | { lte: [Operand, Operand] }
  | { eq: [Operand, Operand] }
  | { crossesAbove: [Operand, Operand] }
  | { crossesBelow: [Operand, Operand] }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }

export const COMPARISONS = ['gt', 'gte', 'lt', 'lte', 'eq', 'crossesAbove', 'crossesBelow'] as const

const ConditionSchema: z.ZodType<Condition> = z
  .object({
    gt: Pair.optional(),
    gte: Pair.optional(),
    lt: Pair.optional(),
    lte: Pair.optional(),
    eq: Pair.optional(),
    crossesAbove: Pair.optional().describe('a was at or below b on the previous bar and is above it now'),
    crossesBelow: Pair.optional().describe('a was at or above b on the previous bar and is below it now'),
    get all() {
      return z.array(ConditionSchema).min(1).optional()
    },
    get any() {
      return z.array(ConditionSchema).min(1).optional()
    },
    get not() {
      return ConditionSchema.optional()
    },
  })
  .strict()
  .refine((c) => Object.keys(c).length === 1, { message: 'a condition has exactly one operator' })
  .meta({ id: 'Condition', minProperties: 1, maxProperties: 1 }) as unknown as z.ZodType<Condition>

const BAR_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const
export type BarField = (typeof BAR_FIELDS)[number]
export const isBarField = (s: string): s is BarField => (BAR_FIELDS as readonly string[]).includes(s)

const Period = (min: number) => z.int().min(min).max(MAX_PERIOD)
const Source = z.enum(BAR_FIELDS)

// One object per indicator type; parameters and defaults as SPEC §5.1 and TA-Lib give them.
const IndicatorSpec = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['sma', 'ema']), period: Period(1), source: Source.default('close') }).strict(),
  z.object({ type: z.literal('rsi'), period: Period(2).default(14), source: Source.optional() }).strict(),
  z.object({ type: z.literal('macd'), fast: Period(2).default(12), slow: Period(2).default(26), signal: Period(1).default(9), source: Source.optional() }).strict(),
  z.object({ type: z.literal('atr'), period: Period(1).default(14) }).strict(),
  z.object({ type: z.literal('bbands'), period: Period(2).default(20), stddev: z.number().min(0).default(2).describe('multiple of the population σ'), source: Source.optional() }).strict(),
  z.object({ type: z.enum(['highest', 'lowest']), period: Period(1), source: Source.optional().describe('defaults to high for highest, low for lowest') }).strict(),
  z.object({ type: z.literal('dpi'), period: Period(DPI_MIN_PERIOD).default(20) }).strict(),
])
export type IndicatorSpec = z.infer<typeof IndicatorSpec>

const Costs = z
  .object({
    commission_pct: z.number().min(0).max(1).default(0).describe('Fraction of notional, e.g. 0.001 = 0.1%'),
    commission_per_share: z.number().min(0).default(0),
    commission_min: z.number().min(0).default(0),
    slippage_bps: z.number().min(0).max(10_000).default(0).describe('Against the trader, in basis points of the fill price'),
  })
  .strict()
export type Costs = z.infer<typeof Costs>

const Risk = z
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
  })
  .strict()
export type RiskConfig = z.infer<typeof Risk>

const Account = z
  .object({
    id: z.string().regex(new RegExp(ACCOUNT_PATTERN), 'lower-case letters, digits, _ and -, at most 32'),
    starting_cash: z.number().gt(0),
    costs: Costs.default(Costs.parse({})),
    risk: Risk.default(Risk.parse({})),
  })
  .strict()
export type AccountConfig = z.infer<typeof Account>

const Confidence = z
  .object({
    base: z.number().min(0).max(100),
    adjust: z.array(z.object({ when: ConditionSchema, add: z.number() }).strict()).default([]),
  })
  .strict()
  .describe('Deterministic confidence 0–100: base plus every adjust whose condition holds, clamped; absent = 100')

const Strategy = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'),
    account: z.string(),
    symbols: z.array(z.string().regex(new RegExp(SYMBOL_PATTERN), 'symbols are A-Z 0-9 _ - (write BRK.B as BRK-B)')).min(1),
    timeframe: z.string().regex(new RegExp(TIMEFRAME_PATTERN), 'like 1m, 15m, 1h, 1d').default('1d'),
    indicators: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'names start with a letter; letters, digits, _'), IndicatorSpec).default({}),
    entry: z.object({ long: ConditionSchema }).strict(),
    exit: z.object({ long: ConditionSchema.optional() }).strict().default({}),
    sizing: z.object({ fixed_qty: z.number().gt(0) }).strict(),
    confidence: Confidence.optional(),
  })
  .strict()
export type StrategyConfig = z.infer<typeof Strategy>

export const ConfigFileSchema = z
  .object({
    $schema: z.string().optional(),
    accounts: z.array(Account).min(1),
    strategies: z.array(Strategy).default([]),
  })
  .strict()
  // Cross-references are only meaningful on a well-formed document (and walking a malformed
  // condition would throw); a shape error is reported first.
  .superRefine(checkReferences, { when: (payload) => payload.issues.length === 0 })
export type ConfigFile = z.infer<typeof ConfigFileSchema>

function checkReferences(cfg: { accounts: AccountConfig[]; strategies: StrategyConfig[] }, ctx: z.RefinementCtx) {
  const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i)
  for (const id of duplicates(cfg.accounts.map((a) => a.id))) ctx.addIssue({ code: 'custom', path: ['accounts'], message: `account "${id}" is defined twice` })
  for (const id of duplicates(cfg.strategies.map((s) => s.id))) ctx.addIssue({ code: 'custom', path: ['strategies'], message: `strategy "${id}" is defined twice` })
  const accounts = new Set(cfg.accounts.map((a) => a.id))
  // The same name on the same symbol and timeframe must mean the same indicator: md.ind carries one value per name.
  const declared = new Map<string, { strategy: string; spec: string }>()
  cfg.strategies.forEach((s, i) => {
    if (!accounts.has(s.account)) ctx.addIssue({ code: 'custom', path: ['strategies', i, 'account'], message: `unknown account "${s.account}"` })
    const names = new Set(operandNames(s.indicators))
    for (const name of Object.keys(s.indicators)) {
      if (isBarField(name)) ctx.addIssue({ code: 'custom', path: ['strategies', i, 'indicators', name], message: `"${name}" is a bar field; give the indicator another name` })
    }
    const check = (cond: Condition | undefined, path: (string | number)[]) => {
      if (cond) for (const [operand, at] of operandsOf(cond, path)) {
        if (typeof operand === 'string' && !isBarField(operand) && !names.has(operand)) {
          ctx.addIssue({ code: 'custom', path: ['strategies', i, ...at], message: `"${operand}" is neither a declared indicator nor a bar field` })
        }
      }
    }
    check(s.entry.long, ['entry', 'long'])
    check(s.exit.long, ['exit', 'long'])
    s.confidence?.adjust.forEach((a, j) => check(a.when, ['confidence', 'adjust', j, 'when']))
    for (const symbol of s.symbols) {
      for (const [name, spec] of Object.entries(s.indicators)) {
        const key = `${symbol}|${s.timeframe}|${name}`
        const text = JSON.stringify(spec)
        const seen = declared.get(key)
        if (seen && seen.spec !== text) {
          ctx.addIssue({ code: 'custom', path: ['strategies', i, 'indicators', name], message: `"${name}" on ${symbol} ${s.timeframe} is declared differently by strategy "${seen.strategy}"` })
        }
        declared.set(key, { strategy: s.id, spec: text })
      }
    }
  })
}

/** The operand names the declarations provide: `fast`, `macd.line`, `bb.upper`, `dpi.regime`, … */
export function operandNames(indicators: Record<string, IndicatorSpec>): string[] {
  return Object.entries(indicators).flatMap(([name, spec]) => outputsOf(name, spec))
}

function* operandsOf(cond: Condition, path: (string | number)[]): Generator<[Operand, (string | number)[]]> {
  const [op, arg] = Object.entries(cond)[0] as [string, unknown]
  if (op === 'all' || op === 'any') for (const [j, c] of (arg as Condition[]).entries()) yield* operandsOf(c, [...path, op, j])
  else if (op === 'not') yield* operandsOf(arg as Condition, [...path, op])
  else for (const [j, operand] of (arg as Operand[]).entries()) yield [operand, [...path, op, j]]
}
