// The shapes of paperd's messages: one zod schema per message type (→ TypeScript types via z.infer in
// contracts.ts, → schemas/<type>.json via `npm run schemas`), built from shared field types, and the
// vocabularies they use (statuses, actions, commands, limits of market values).
// Wire rules (SPEC §4): JSON numbers only (ajv rejects NaN/Infinity), canonical ISO-8601 UTC times,
// deterministic ids, unknown fields rejected everywhere.
import { z } from 'zod'

export const SYMBOL_PATTERN = '^[A-Z0-9_-]{1,32}$'
export const ACCOUNT_PATTERN = '^[a-z0-9_-]{1,32}$'

/**
 * The bounds of market data: what md.in.bar and md.in.context may carry, and so every bar built from
 * them. A real market never reaches them; a number beyond them is a unit error, a corrupted feed or an
 * attack, and would poison indicators and books (1e308 overflows any sum, a subnormal divides to
 * Infinity, a 64-digit volume is not the number written). They are fixed numbers, not "now ± n
 * years": a bar accepted today is accepted by a replay of the same stream in ten years (SPEC §3.1).
 * The schemas carry them (minimum, maximum, patterns), so ajv enforces them and the JSON Schemas and
 * the README tell them; the codec adds what JSON Schema cannot say (a subnormal volume).
 */
export const MARKET_LIMITS = {
  /**
   * Prices and price forecasts, whatever the quote currency: a micro-cap crypto token is ~1e-10 USD,
   * bitcoin in Iranian rials ~1e11. 24 orders of magnitude, and still far from both ends of a double.
   */
  minPrice: 1e-12,
  maxPrice: 1e12,
  /** Volumes: beyond 2^53 - 1 a JSON number no longer parses to the integer written. */
  maxVolume: Number.MAX_SAFE_INTEGER,
  /** Positive volumes below this are subnormal doubles: an underflow, not a quantity. */
  minPositiveVolume: 2 ** -1022,
  /**
   * Years of a bar or context time, as written: the oldest price series anyone feeds (19th-century
   * exchange records, Shiller's data from 1871) to well past any forecast horizon. Whole centuries
   * (the ts pattern says them).
   */
  firstYear: 1800,
  lastYear: 2199,
  /** The longest bar: a year (52w, 366d, 8784h; seconds and minutes stay within 4 digits as before). */
  maxTimeframeDays: 366,
} as const

/** A regex group matching the decimal integers 1..max, without leading zeros. */
function oneTo(max: number): string {
  const s = String(max)
  if (/^9+$/.test(s)) return `[1-9][0-9]{0,${s.length - 1}}`
  const alts: string[] = []
  if (s.length > 1) alts.push(s.length === 2 ? '[1-9]' : `[1-9][0-9]{0,${s.length - 2}}`)
  for (let i = 0; i < s.length; i++) {
    const lowest = i === 0 ? 1 : 0
    const d = Number(s[i])
    if (d <= lowest) continue
    const digit = d - 1 === lowest ? String(lowest) : `[${lowest}-${d - 1}]`
    const rest = s.length - i - 1
    alts.push(`${s.slice(0, i)}${digit}${rest === 0 ? '' : rest === 1 ? '[0-9]' : `[0-9]{${rest}}`}`)
  }
  alts.push(s)
  return `(?:${alts.join('|')})`
}

const TIMEFRAME_MAX_COUNT = {
  s: 9999,
  m: 9999,
  h: MARKET_LIMITS.maxTimeframeDays * 24,
  d: MARKET_LIMITS.maxTimeframeDays,
  w: Math.floor(MARKET_LIMITS.maxTimeframeDays / 7),
}
/** A count and a unit (s, m, h, d, w), at most a year long. */
export const TIMEFRAME_PATTERN = `^(?:${Object.entries(TIMEFRAME_MAX_COUNT)
  .map(([unit, max]) => `${oneTo(max)}${unit}`)
  .join('|')})$`
export const TIMEFRAME_RULE = `like 1m, 15m, 1h, 1d: a count of s, m, h, d or w, at most a year (${TIMEFRAME_MAX_COUNT.w}w, ${TIMEFRAME_MAX_COUNT.d}d, ${TIMEFRAME_MAX_COUNT.h}h)`
/** Canonical event time: what every actor publishes (`Date#toISOString()`). */
const TS_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$'
/** The same, to test a string with: a time already canonical need not be printed again. */
export const CANONICAL_TS = new RegExp(TS_PATTERN)
const CENTURIES = Array.from({ length: (MARKET_LIMITS.lastYear + 1 - MARKET_LIMITS.firstYear) / 100 }, (_, i) => MARKET_LIMITS.firstYear / 100 + i)
/** What a person or a feed may type: a date, or a date-time with a zone, in the years MARKET_LIMITS allows. */
export const TS_INPUT_PATTERN = `^(?:${CENTURIES.join('|')})\\d{2}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2}))?$`
const INPUT_YEARS = `years ${MARKET_LIMITS.firstYear} to ${MARKET_LIMITS.lastYear}`

const SymbolName = z.string().regex(new RegExp(SYMBOL_PATTERN)).describe('Ticker; also a subject token (BRK.B is written BRK-B)')
const Account = z.string().regex(new RegExp(ACCOUNT_PATTERN)).describe('Account id; also a subject token')
const Timeframe = z.string().regex(new RegExp(TIMEFRAME_PATTERN)).describe(`Bar length, ${TIMEFRAME_RULE}`)
const Ts = z.string().regex(new RegExp(TS_PATTERN)).describe('Event time, ISO-8601 UTC with milliseconds')
const Id = z.string().min(1).max(256)
const Price = z.number().gt(0)
const Qty = z.number().gt(0)
const exponent = (n: number) => n.toExponential().replace('e+', 'e')
/** A market price or a price forecast (MARKET_LIMITS). */
const marketPrice = (what: string) =>
  z
    .number()
    .min(MARKET_LIMITS.minPrice)
    .max(MARKET_LIMITS.maxPrice)
    .describe(`${what}, from ${exponent(MARKET_LIMITS.minPrice)} to ${exponent(MARKET_LIMITS.maxPrice)}`)
const Money = z.number()
const NonNeg = z.number().min(0)
const Side = z.enum(['buy', 'sell'])
const PositionSide = z.enum(['long', 'short'])
const Intent = z.enum(['entry', 'exit'])

const IDEA_STATUSES = ['waiting', 'needs_approval', 'auto_executed', 'rejected', 'halted_by_risk'] as const
const DECISION_ACTIONS = ['ai_proposed', 'ai_auto_executed', 'human_approved', 'human_rejected', 'risk_rejected', 'ai_halted', 'ai_resumed'] as const
const ORDER_STATUSES = ['working', 'filled', 'rejected', 'cancelled'] as const

/** Fields every message an actor publishes carries (SPEC §4). */
const envelope = <T extends string>(type: T) => ({
  id: Id.describe('Deterministic id derived from the cause; also the Nats-Msg-Id'),
  type: z.literal(type),
  ts: Ts,
  causation_id: Id.describe('Id of the message that caused this one'),
  correlation_id: Id.describe('Id of the bar or idea the chain started from'),
})

const OhlcvFields = {
  open: marketPrice('Price'),
  high: marketPrice('Price'),
  low: marketPrice('Price'),
  close: marketPrice('Price'),
  volume: z.number().min(0).max(MARKET_LIMITS.maxVolume).describe(`Traded quantity, from 0 to 2^53 - 1 (${MARKET_LIMITS.maxVolume}), not subnormal`),
}

export const InjectedBarSchema = z
  .object({
    ts: z.string().regex(new RegExp(TS_INPUT_PATTERN)).describe(`Bar open time: a date (UTC) or a date-time with a zone, ${INPUT_YEARS}`),
    timeframe: Timeframe.optional().describe(`Bar length, ${TIMEFRAME_RULE}; defaults to 1d`),
    symbol: SymbolName.optional().describe('Optional; must equal the subject token'),
    ...OhlcvFields,
  })
  .strict()
  .describe('A bar typed by a person or a feed. The symbol comes from the subject.')

export const InjectedContextSchema = z
  .object({
    ts: z.string().regex(new RegExp(TS_INPUT_PATTERN)).describe(`When the forecasts were made: a date (UTC) or a date-time with a zone, ${INPUT_YEARS}`),
    symbol: SymbolName.optional().describe('Optional; must equal the subject token'),
    consensus_forecast: marketPrice('The market consensus price forecast'),
    distribution_estimate: marketPrice("The strategy's own estimate of where the price distribution is centred"),
  })
  .strict()
  .describe('Phase-5 NarrativeGap inputs for a symbol, typed by a person or a feed; they apply to the bars that follow')

const Context = z
  .object({ ts: Ts, consensus_forecast: marketPrice('Consensus forecast'), distribution_estimate: marketPrice('Distribution estimate') })
  .strict()
  .describe('The latest md.in.context of the symbol accepted before this bar')

export const BarSchema = z
  .object({ ...envelope('md.bar'), symbol: SymbolName, timeframe: Timeframe, ...OhlcvFields, context: Context.optional() })
  .strict()
  .describe('A validated, de-duplicated, in-order bar')

const IndicatorValues = z
  .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[a-z]+)?$/), z.number())
  .describe('Indicator values by declared name; multi-output values dotted (macd.signal). Absent until warmed up.')

export const IndicatorsSchema = z
  .object({
    ...envelope('md.ind'),
    symbol: SymbolName,
    timeframe: Timeframe,
    bar_id: Id,
    bar_seq: z.int().min(0).describe('Stream sequence of the md.bar message: the cursor the executor uses to find the next bar'),
    bar: z.object(OhlcvFields).strict(),
    values: IndicatorValues,
    context: Context.optional(),
  })
  .strict()
  .describe('A bar with every indicator value the strategies declared for its symbol and timeframe')

const tradeFields = {
  account: Account,
  strategy_id: Id,
  symbol: SymbolName,
  side: Side,
  intent: Intent,
  qty: Qty,
}

const OrderType = z
  .enum(['market', 'stop', 'limit', 'stop_limit'])
  .describe(
    'Entries: market (the open of the next bar), limit, stop or stop_limit at their prices from the next bar on. Exits: market, or stop/limit for a protective exit on the signal bar itself, at the stop or target',
  )
/** Prices of an entry order other than market, and how long it works. */
const entryOrderFields = {
  limit_price: Price.nullable().describe('limit and stop_limit entries'),
  stop_price: Price.nullable().describe('stop and stop_limit entries'),
  valid_bars: z.int().min(1).nullable().describe('A limit/stop entry not filled within this many bars after the signal is cancelled (expired)'),
}
const ExitReason = z.enum(['signal', 'stop_loss', 'take_profit', 'max_bars', 'reversal', 'manual'])
const Level = z.object({ kind: z.enum(['pct', 'distance', 'price', 'rr']), value: z.number().gt(0) }).strict()
const Bracket = z
  .object({
    stop_loss: Level.nullable().describe('pct of the fill price, a distance, or a price'),
    take_profit: Level.nullable().describe('pct of the fill price, or rr × the stop distance'),
    max_bars: z.int().min(1).nullable(),
  })
  .strict()
  .describe('Protective exits of an entry, measured from its fill price')
const SizingSpec = z.object({ method: z.enum(['fixed_qty', 'pct_equity', 'risk_pct']), value: z.number().gt(0), phase5: z.boolean() }).strict()
const Phase5Factors = z
  .object({ ng_score: NonNeg, ng_multiplier: NonNeg, brier_adjustment: NonNeg, dpi_enhancement: NonNeg })
  .strict()
  .describe('The Phase-5 sizing factors of the entry (SPEC 5.5)')

export const IdeaSchema = z
  .object({
    ...envelope('trade.idea'),
    ...tradeFields,
    qty: Qty.nullable().describe('null: the risk gate sizes it (sizing) or, for an exit, it is the whole position'),
    timeframe: Timeframe,
    order_type: OrderType,
    ...entryOrderFields,
    exit_reason: ExitReason.nullable(),
    sizing: SizingSpec.nullable().describe('How the risk gate sizes an entry'),
    bracket: Bracket.nullable(),
    stop_distance: z.number().gt(0).nullable().describe('Stop distance at the signal close (risk_pct sizing, rr_expectation)'),
    max_qty: Qty.nullable().describe("The strategy's risk_caps.max_lot_size"),
    max_positions: z.int().min(1).nullable().describe("The strategy's risk_caps.max_concurrent_positions"),
    ng_score: NonNeg.max(1).describe('NarrativeGap at the signal bar; 0 without context'),
    dpi: z.number().min(-1).max(1).nullable().describe('DPI at the signal bar, when the strategy declares one'),
    dpi_regime: z.string().max(40).nullable().describe('DPI regime at the signal bar'),
    position_side: PositionSide,
    close_position: z.boolean().describe('Exit the whole position, whatever its size at fill time'),
    price: Price.describe('Close of the signal bar (reference price for risk checks)'),
    bar_seq: z.int().min(0),
    confidence: z.number().min(0).max(100),
    reason: z.string().max(200),
  })
  .strict()
  .describe('A strategy proposes an entry or an exit')

export const DecisionSchema = z
  .object({
    ...envelope('trade.decision'),
    account: Account,
    idea_id: Id.nullable().describe('null for a decision about the account (a halt, a resume)'),
    strategy_id: Id.nullable(),
    symbol: SymbolName.nullable(),
    action: z.enum(DECISION_ACTIONS),
    status: z.enum(IDEA_STATUSES).nullable(),
    risk_check_result: z.string().max(100).describe('pass, fail:<reason> or approval:<reason>'),
    rationale: z.string().max(500),
    human_override: z.boolean(),
    requested_by: z.string().max(100).nullable(),
    confidence: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe("The idea's confidence; absent from decisions about the account and from releases before it was recorded"),
  })
  .strict()
  .describe('One entry of the audit trail (decision_history)')

export const IdeaStatusSchema = z
  .object({
    ...envelope('trade.idea_status'),
    ...tradeFields,
    qty: NonNeg.describe('The quantity as sized (0 when it could not be)'),
    idea_id: Id,
    confidence: z.number().min(0).max(100),
    status: z.enum(IDEA_STATUSES),
    reason: z.string().max(200),
  })
  .strict()
  .describe('The status an idea reached')

export const OrderSchema = z
  .object({
    ...envelope('trade.order'),
    ...tradeFields,
    idea_id: Id,
    timeframe: Timeframe,
    order_type: OrderType,
    ...entryOrderFields,
    exit_reason: ExitReason.nullable(),
    reduce_only: z.boolean(),
    close_position: z.boolean(),
    ref_price: Price,
    bar_seq: z.int().min(0),
    bracket: Bracket.nullable(),
    phase5: Phase5Factors.nullable(),
  })
  .strict()
  .describe('An order the risk gate let through; fills on the first bar of its symbol after the signal bar')

export const OrderStatusSchema = z
  .object({
    ...envelope('trade.order_status'),
    account: Account,
    order_id: Id,
    idea_id: Id,
    symbol: SymbolName,
    status: z.enum(ORDER_STATUSES),
    reason: z.string().max(200),
  })
  .strict()
  .describe('An order left the book without a fill (rejected, cancelled)')

const FillModel = z
  .object({
    type: z.enum(['next_open', 'stop', 'limit', 'stop_limit']),
    slippage_bps: NonNeg,
    commission_pct: NonNeg,
    commission_per_share: NonNeg,
    commission_min: NonNeg,
    volume_cap_pct: z.number().gt(0).max(1).nullable().describe('A fill takes at most this share of the bar volume; null = no cap'),
  })
  .strict()

export const FillSchema = z
  .object({
    ...envelope('trade.fill'),
    ...tradeFields,
    order_id: Id,
    idea_id: Id,
    position_id: Id,
    price: Price,
    commission: NonNeg,
    fill_model: FillModel,
    bar_id: Id,
    bar_seq: z.int().min(0).describe('MD stream sequence of the bar it filled on: where the fill sits in the market history'),
    exit_reason: ExitReason.nullable(),
    phase5: Phase5Factors.nullable(),
    leaves_qty: NonNeg.optional().describe(
      'What of the order still works after this fill (a volume cap left it): 0 when the order is done. A close fills what the account holds at the fill bar, which can differ from the qty the order was sized at. Absent from fills of releases before it was stated',
    ),
  })
  .strict()
  .describe('A simulated execution; ts is the time of the bar it filled on')

export const PositionSchema = z
  .object({
    ...envelope('trade.position'),
    account: Account,
    position_id: Id,
    symbol: SymbolName,
    side: PositionSide,
    qty: NonNeg,
    avg_price: NonNeg,
    realized_pnl: Money,
    status: z.enum(['open', 'closed']),
    opened_at: Ts,
    closed_at: Ts.nullable(),
    exit_reason: ExitReason.nullable(),
    stop_price: Price.nullable(),
    target_price: Price.nullable(),
    seq: z.int().min(0).describe('Increases with every change of the account books'),
  })
  .strict()
  .describe('A position after a fill changed it')

export const PortfolioSchema = z
  .object({
    ...envelope('trade.portfolio'),
    account: Account,
    starting_cash: Money,
    cash: Money,
    equity: Money,
    realized_pnl: Money,
    unrealized_pnl: Money,
    peak_equity: Money,
    drawdown: NonNeg,
    daily_pnl: Money.describe('Equity now minus equity at the end of the previous bar-time UTC day'),
    trade_count: z.int().min(0),
    winning_trades: z.int().min(0),
    open_positions: z.int().min(0),
    seq: z.int().min(0).describe('Increases with every change of the account books'),
    fold_seq: z
      .int()
      .min(0)
      .optional()
      .describe(
        "Where the point is in the account's fold of bars and fills: 4 × the MD sequence of its bar, + 1 for a bar's mark, + 0 for a fill at the open, + 2 for a stop or target exit within the bar, + 3 for an entry cash deferred (at the exit that freed the cash)",
      ),
    orders_seq: z
      .int()
      .min(0)
      .optional()
      .describe(
        'TRADE position of the last order or command the executor had handled when it valued this point. Of the versions of one point (one id), the one with the highest (orders_seq, seq) stands. The Nats-Msg-Id is `<id>@<orders_seq>.<seq>`',
      ),
    supersedes_from: z
      .int()
      .min(0)
      .nullable()
      .optional()
      .describe(
        "A fold_seq: every point of the account at or after it with a lower orders_seq is withdrawn, unless published again. A fill's point says so of the points after it; when a fill reached the executor after bars it had marked, it values the account again from that bar on and every point it publishes says so",
      ),
  })
  .strict()
  .describe('The account books after a change (fill or mark-to-market): a point of the equity curve')

const EXECUTOR_COMMANDS = ['cancel_order', 'close_position'] as const
const RISK_COMMANDS = [
  'risk_set',
  'risk_config',
  'risk_halt',
  'risk_resume',
  'idea_approve',
  'idea_reject',
  'idea_expire',
  'strategy_enable',
  'strategy_disable',
  'strategy_put',
  'strategy_delete',
] as const
export const COMMANDS = [...EXECUTOR_COMMANDS, ...RISK_COMMANDS] as const
/** A risk config field's value as a command carries it (validated by the config schema before it is sent). */
const RiskValue = z.union([z.number(), z.boolean(), z.null()])

export const CommandSchema = z
  .object({
    ...envelope('trade.command'),
    account: Account,
    command: z.enum(COMMANDS),
    order_id: Id.nullable().describe('cancel_order: the working order'),
    symbol: SymbolName.nullable().describe('close_position: the position'),
    idea_id: Id.nullable().describe('idea_approve, idea_reject: the idea waiting for approval'),
    strategy_id: Id.nullable().describe('strategy_enable, strategy_disable, strategy_put, strategy_delete: the strategy'),
    reason: z.string().max(200).nullable().describe('risk_halt, idea_reject: why'),
    strategy: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .describe('strategy_put: the definition, validated as the config file validates a strategy (schemas/config.json)'),
    version: z.int().min(1).nullable().optional().describe("strategy_put, strategy_delete: the definition's version in the strategy registry"),
    risk: z.record(z.string(), RiskValue).nullable().describe("risk_set: the fields to change; risk_config: the config file's risk settings"),
    bar_seq: z
      .int()
      .min(0)
      .nullable()
      .optional()
      .describe("close_position: the symbol's last bar in MD when the command was written; the close fills on the next bar after it"),
    requested_by: z.string().min(1).max(100),
  })
  .strict()
  .describe("An operator's command (ctl.* request), written into the account's stream so it is ordered with its orders")

export const CommandStatusSchema = z
  .object({
    ...envelope('trade.command_status'),
    account: Account,
    command_id: Id,
    command: z.enum(COMMANDS),
    ok: z.boolean(),
    error: z.string().max(300).nullable(),
    order_id: Id.nullable().describe('The order cancelled, or the order that will close the position'),
    detail: z.record(z.string(), z.unknown()).nullable().describe('What the command left: the risk state, the idea status'),
  })
  .strict()
  .describe('What became of an operator command')

export const RiskStateSchema = z
  .object({
    ...envelope('trade.risk_state'),
    account: Account,
    risk: z.record(z.string(), RiskValue).describe('Every risk field as it now applies'),
    halted: z.boolean(),
    last_halt_reason: z.string().max(200).nullable(),
    updated_by: z.string().max(100).describe('who changed it (system for an automatic halt)'),
    version: z.int().min(1).describe('Increases with every change'),
  })
  .strict()
  .describe("An account's risk config and halt state after a change (risk_config)")

export const StrategyDefinitionSchema = z
  .object({
    ...envelope('trade.strategy'),
    account: Account,
    strategy_id: Id,
    version: z.int().min(1).describe('Increases with every put or delete of the strategy'),
    action: z.enum(['put', 'delete']),
    definition: z.record(z.string(), z.unknown()).nullable().describe('The strategy as put (config-file syntax); null once deleted'),
    updated_by: z.string().min(1).max(100),
  })
  .strict()
  .describe('A strategy defined, changed or deleted at runtime (ctl.strategies.put/delete), as the risk gate took it')

export const Phase5MetricsSchema = z
  .object({
    ...envelope('metrics.phase5'),
    account: Account,
    trigger: z.enum(['position_closed', 'daily']).describe('A position closed, or the first portfolio of a new bar-time day'),
    brier_score: NonNeg,
    prediction_count: z.int().min(0),
    recent_accuracy: NonNeg,
    ng_signal_count: z.int().min(0),
    avg_ng_score: NonNeg,
    high_ng_trades: z.int().min(0),
    dpi_regime: z.string().max(40).nullable(),
    avg_dpi_enhancement: NonNeg,
    health_status: z.enum(['healthy', 'warning', 'critical']),
  })
  .strict()
  .describe('Phase-5 health of an account (SPEC 5.5)')

const GayedSignal = z
  .object({
    name: z.enum(['utilities_spy', 'lumber_gold', 'treasury_curve', 'vix_defensive', 'sp500_ma']),
    signal: z.enum(['Risk-On', 'Risk-Off', 'Neutral']),
    value: z.number(),
    strength: z.enum(['Strong', 'Moderate', 'Weak']),
    confidence: z.number().min(0).max(1),
  })
  .strict()

export const StrategySignalSchema = z
  .object({
    ...envelope('strategy.signal'),
    account: Account,
    strategy_id: Id,
    signals: z.array(GayedSignal).describe('Every signal with enough history'),
    consensus: z.enum(['Risk-On', 'Risk-Off', 'Mixed']),
    confidence: z.number().min(0).max(1),
    risk_on_weight: NonNeg,
    risk_off_weight: NonNeg,
    holding: SymbolName.nullable().describe(
      "What the account holds of this strategy at this day's close (null: nothing); a rotation decided this day shows from the next",
    ),
  })
  .strict()
  .describe('The state of a multi-symbol strategy (Gayed consensus) after a day')

export const DeadLetterSchema = z
  .object({
    id: Id,
    type: z.literal('dlq'),
    ts: Ts.describe('When the bad message was stored'),
    actor: z.string(),
    reason: z.string().max(1000),
    subject: z.string(),
    stream: z.string(),
    stream_seq: z.int().min(0),
    deliveries: z.int().min(0),
    msg_id: z.string().nullable(),
    payload: z.string().describe('The original payload as text, truncated to 64 KiB'),
    payload_bytes: z.int().min(0),
  })
  .strict()
  .describe('A message an actor refused, and why')

/** The legacy systems `paperd import` reads (README, Importing records). */
export const IMPORT_FORMATS = ['trader-ai-sqlite', 'migration-export', 'prescient-json', 'trades-csv'] as const
const ImportSource = z.enum(IMPORT_FORMATS).describe('The format the record came from')
const Original = z.record(z.string(), z.unknown()).describe('The record as the legacy system stored it')

export const ImportedTradeSchema = z
  .object({
    id: Id.describe("import:<format>:<account>:<the record's own id>: importing twice stores it once"),
    type: z.literal('import.trade'),
    ts: Ts.describe('When it filled'),
    account: Account,
    source: ImportSource,
    strategy_id: Id,
    symbol: SymbolName,
    side: Side,
    intent: Intent,
    qty: Qty,
    price: Price,
    commission: NonNeg,
    position_id: Id,
    exit_reason: ExitReason.nullable(),
    is_simulation: z.boolean(),
    phase5: Phase5Factors.nullable(),
    original: Original,
  })
  .strict()
  .describe('A fill of a legacy system, brought in by paperd import (a trades row)')

export const ImportedPortfolioSchema = z
  .object({
    id: Id.describe("import:<format>:<account>:<the snapshot's own id>"),
    type: z.literal('import.portfolio'),
    ts: Ts.describe('When the legacy system took the snapshot'),
    account: Account,
    source: ImportSource,
    starting_cash: Money,
    cash: Money,
    equity: Money,
    realized_pnl: Money,
    trade_count: z.int().min(0),
    winning_trades: z.int().min(0),
    current: z.boolean().describe("The legacy system's latest state: it becomes the account's portfolio_state while paperd has none"),
    original: Original,
  })
  .strict()
  .describe('A portfolio snapshot of a legacy system, brought in by paperd import (a portfolio_history row)')
