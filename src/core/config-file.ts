// The JSON config file (SPEC §5.2): accounts with costs and risk limits, and strategies written in a
// small JSON condition language. One zod schema; schemas/config.json is generated from it for editors
// and other tools. Cross-references (accounts, indicator names) are checked after the shape.
import { z } from 'zod'
import { DPI_MIN_PERIOD, MAX_PERIOD, outputsOf } from './indicator-kinds.js'
import { GAYED_ROLES, type GayedRole } from './gayed-roles.js'
import { ACCOUNT_PATTERN, SYMBOL_PATTERN, TIMEFRAME_PATTERN, TIMEFRAME_RULE } from './schemas.js'

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
    volume_cap_pct: z.number().gt(0).max(1).nullable().default(null).describe('A fill takes at most this share of the bar volume, the rest fills on the next bars; null = no cap'),
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
    max_notional_per_order: z.number().gt(0).nullable().default(null).describe('Max qty × price of an entry; null = no limit'),
    max_orders_per_day: z.int().min(1).nullable().default(null).describe('Entries passed per bar-time UTC day; null = no limit'),
    approval_timeout_minutes: z.number().gt(0).default(1440).describe('An idea waiting for approval longer than this (in bar time) is rejected'),
  })
  .strict()
export type RiskConfig = z.infer<typeof Risk>
/** What ctl.risk.set accepts: any subset of the risk fields, each validated like the config file's. */
export const RiskPatch = Risk.partial().strict()

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

/** Exactly one of `keys` is set (zod unions report "Invalid input"; this names what is wrong). */
function oneOf(keys: readonly string[], what: string) {
  return (o: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const set = keys.filter((k) => o[k] !== undefined)
    if (set.length !== 1) ctx.addIssue({ code: 'custom', message: `${what}: give exactly one of ${keys.join(', ')}${set.length ? ` (got ${set.join(' and ')})` : ''}` })
  }
}

const StopLoss = z
  .object({
    pct: z.number().gt(0).lt(1).optional().describe('Fraction of the entry fill price, e.g. 0.05'),
    atr: z.number().gt(0).optional().describe('Multiple of an ATR indicator (its value on the signal bar)'),
    indicator: z.string().optional().describe('The atr indicator, with "atr"'),
    price: z.number().gt(0).optional().describe('A fixed stop price'),
  })
  .strict()
  .superRefine(oneOf(['pct', 'atr', 'price'], 'stop_loss'))
  .superRefine((o, ctx) => {
    if ((o.atr === undefined) !== (o.indicator === undefined)) ctx.addIssue({ code: 'custom', message: 'stop_loss: "atr" and "indicator" go together ({"atr": 2, "indicator": "atr14"})' })
  })
  .describe('Stop distance from the entry fill price: {"pct"} | {"atr", "indicator"} | {"price"}')
export type StopLoss = z.infer<typeof StopLoss>

const TakeProfit = z
  .object({
    pct: z.number().gt(0).optional().describe('Fraction of the entry fill price'),
    rr: z.number().gt(0).optional().describe('Multiple of the stop distance (needs stop_loss)'),
  })
  .strict()
  .superRefine(oneOf(['pct', 'rr'], 'take_profit'))
export type TakeProfit = z.infer<typeof TakeProfit>

const Sizing = z
  .object({
    fixed_qty: z.number().gt(0).optional().describe('Units per entry'),
    pct_equity: z.number().gt(0).max(1).optional().describe('Fraction of equity at the signal bar, in whole units'),
    risk_pct: z.number().gt(0).max(1).optional().describe('Fraction of equity lost if the stop is hit (needs stop_loss), in whole units'),
    phase5: z.boolean().optional().describe('Multiply by the Phase-5 factors (NG, Brier, DPI), capped at 25% of equity'),
  })
  .strict()
  .superRefine(oneOf(['fixed_qty', 'pct_equity', 'risk_pct'], 'sizing'))
export type Sizing = z.infer<typeof Sizing>

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
// Day names in any case; JSON Schema patterns have no flags, so the pattern spells the case out.
const ClockTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)Z?$/, 'a time of day HH:MM (24 h)')
const SessionWindow = z
  .object({
    days: z.array(z.string().regex(/^([Ss][Uu][Nn]|[Mm][Oo][Nn]|[Tt][Uu][Ee]|[Ww][Ee][Dd]|[Tt][Hh][Uu]|[Ff][Rr][Ii]|[Ss][Aa][Tt])$/, 'Mon, Tue, Wed, Thu, Fri, Sat or Sun')).min(1).optional().describe('Absent = every day'),
    start: ClockTime.optional().describe('Inclusive; absent = 00:00'),
    end: ClockTime.optional().describe('Exclusive; absent = 24:00; before start = overnight'),
    tz: z.string().default('UTC').refine(validTimeZone, 'an IANA time zone such as America/New_York').describe('Time zone of days, start and end'),
  })
  .strict()
  .describe('Entries only when the signal bar opens inside a window (exits always)')
export type SessionWindow = z.infer<typeof SessionWindow>
export const dayIndex = (day: string): number => DAYS.indexOf(day.toLowerCase() as (typeof DAYS)[number])

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

const RiskCaps = z
  .object({
    max_lot_size: z.number().gt(0).optional().describe("Clamps this strategy's entry size"),
    max_concurrent_positions: z.int().min(1).optional().describe('Positions this strategy holds at once, across its symbols'),
  })
  .strict()

const EntryOrderSpec = z
  .object({
    type: z.enum(['market', 'limit', 'stop', 'stop_limit']),
    offset_pct: z.number().min(0).max(0.5).default(0).describe('From the signal close: a long limit below it, a long stop above it (shorts mirrored)'),
    limit_offset_pct: z.number().min(0).max(0.5).default(0).describe('stop_limit: the limit beyond the stop (above it for a long)'),
    valid_bars: z.int().min(1).max(10_000).default(1).describe('Bars from the next one during which it may fill; then it is cancelled (expired)'),
  })
  .strict()
  .describe('How entries are placed (default market: the next open)')
export type EntryOrderSpec = z.infer<typeof EntryOrderSpec>

const StrategyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64')
const SymbolName = z.string().regex(new RegExp(SYMBOL_PATTERN), 'symbols are A-Z 0-9 _ - (write BRK.B as BRK-B)')

const RulesStrategy = z
  .object({
    type: z.literal('rules').default('rules').describe('A strategy written in the condition language (the default)'),
    id: StrategyId,
    account: z.string(),
    symbols: z.array(SymbolName).min(1),
    timeframe: z.string().regex(new RegExp(TIMEFRAME_PATTERN), TIMEFRAME_RULE).default('1d'),
    indicators: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'names start with a letter; letters, digits, _'), IndicatorSpec).default({}),
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
  .object(Object.fromEntries(GAYED_ROLES.map((r) => [r, SymbolName.nullable().optional()])) as Record<GayedRole, z.ZodOptional<z.ZodNullable<typeof SymbolName>>>)
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

const Strategy = z.discriminatedUnion('type', [RulesStrategy, GayedStrategy])
export type AnyStrategyConfig = z.infer<typeof Strategy>

/** The strategies written in the condition language (the ones that declare indicators). */
export const rulesOf = (strategies: readonly AnyStrategyConfig[]): StrategyConfig[] => strategies.filter((s): s is StrategyConfig => s.type === 'rules')
export const gayedOf = (strategies: readonly AnyStrategyConfig[]): GayedConfig[] => strategies.filter((s): s is GayedConfig => s.type === 'gayed')

const Persistence = z
  .object({
    snapshot_retention_days: z.number().gt(0).nullable().default(null).describe('Keep snapshot_market/snapshot_indicators rows this many days behind the newest bar; null = forever'),
  })
  .strict()

export const ConfigFileSchema = z
  .object({
    $schema: z.string().optional(),
    accounts: z.array(Account).min(1),
    strategies: z.array(Strategy).default([]),
    persistence: Persistence.default({ snapshot_retention_days: null }),
  })
  .strict()
  // Cross-references are only meaningful on a well-formed document (and walking a malformed
  // condition would throw); a shape error is reported first.
  .superRefine(checkReferences, { when: (payload) => payload.issues.length === 0 })
export type ConfigFile = z.infer<typeof ConfigFileSchema>

function checkReferences(cfg: { accounts: AccountConfig[]; strategies: AnyStrategyConfig[] }, ctx: z.RefinementCtx) {
  const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i)
  for (const id of duplicates(cfg.accounts.map((a) => a.id))) ctx.addIssue({ code: 'custom', path: ['accounts'], message: `account "${id}" is defined twice` })
  for (const id of duplicates(cfg.strategies.map((s) => s.id))) ctx.addIssue({ code: 'custom', path: ['strategies'], message: `strategy "${id}" is defined twice` })
  const accounts = new Set(cfg.accounts.map((a) => a.id))
  // The same name on the same symbol and timeframe must mean the same indicator: md.ind carries one value per name.
  const declared = new Map<string, { strategy: string; spec: string }>()
  cfg.strategies.forEach((s, i) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: ['strategies', i, ...path], message })
    if (!accounts.has(s.account)) issue(['account'], `unknown account "${s.account}"`)
    if (s.type === 'gayed') {
      if (s.sizing.risk_pct !== undefined) issue(['sizing', 'risk_pct'], 'the Gayed strategy has no stop: size it with fixed_qty or pct_equity')
      if (s.risk_on === s.defensive) issue(['defensive'], `"${s.defensive}" is also the risk_on symbol`)
      return
    }
    const names = new Set(operandNames(s.indicators))
    for (const name of Object.keys(s.indicators)) {
      if (isBarField(name)) issue(['indicators', name], `"${name}" is a bar field; give the indicator another name`)
    }
    const check = (cond: Condition | undefined, path: (string | number)[]) => {
      if (cond) for (const [operand, at] of operandsOf(cond, path)) {
        if (typeof operand === 'string' && !isBarField(operand) && !names.has(operand)) issue(at, `"${operand}" is neither a declared indicator nor a bar field`)
      }
    }
    check(s.entry.long, ['entry', 'long'])
    check(s.entry.short, ['entry', 'short'])
    check(s.exit.long, ['exit', 'long'])
    check(s.exit.short, ['exit', 'short'])
    s.forbidden?.forEach((c, j) => check(c, ['forbidden', j]))
    s.confidence?.adjust.forEach((a, j) => check(a.when, ['confidence', 'adjust', j, 'when']))
    const stop = s.exit.stop_loss
    if (stop?.indicator !== undefined && s.indicators[stop.indicator]?.type !== 'atr') {
      issue(['exit', 'stop_loss', 'indicator'], `"${stop.indicator}" is not a declared atr indicator`)
    }
    if (s.exit.take_profit?.rr !== undefined && !stop) issue(['exit', 'take_profit', 'rr'], 'rr is a multiple of the stop distance: add exit.stop_loss')
    if (s.sizing.risk_pct !== undefined && !stop) issue(['sizing', 'risk_pct'], 'risk_pct needs exit.stop_loss (the risk is the stop distance)')
    if (s.rr_expectation !== undefined && !(stop && s.exit.take_profit)) issue(['rr_expectation'], 'rr_expectation needs exit.stop_loss and exit.take_profit')
    if (s.sizing.phase5 && !Object.values(s.indicators).some((spec) => spec.type === 'dpi')) {
      issue(['sizing', 'phase5'], 'Phase-5 sizing reads the DPI: declare one, e.g. "dpi": {"type": "dpi"}')
    }
    for (const symbol of s.symbols) {
      for (const [name, spec] of Object.entries(s.indicators)) {
        const key = `${symbol}|${s.timeframe}|${name}`
        const text = JSON.stringify(spec)
        const seen = declared.get(key)
        if (seen && seen.spec !== text) issue(['indicators', name], `"${name}" on ${symbol} ${s.timeframe} is declared differently by strategy "${seen.strategy}"`)
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
