// Messages for the tests, built one way: message(type, over) is a valid message of that type (its
// shape from src/core/contracts.ts) with `over` laid on top. The defaults are plain constants, one
// ORCL daily bar of 2024-01-02 and the chain it starts (an entry idea of strategy `s` in account
// `main`, its order, its fill), and nothing is derived from `over`: a test that changes the symbol,
// the ts or the intent passes the ids, sides and sequences that go with them.
import type { Message } from '../../src/core/contracts.js'

const TS = '2024-01-02T00:00:00.000Z'
const BAR_ID = `bar:ORCL:1d:${TS}`
const IDEA_ID = `idea:s:ORCL:${TS}:entry:long`
const ORDER_ID = `order:${IDEA_ID}`
const OHLCV = { open: 100, high: 101, low: 99, close: 100.5, volume: 1000 }

/** A fill model without slippage or commission. */
export const ZERO_COSTS: Message<'trade.fill'>['fill_model'] = {
  type: 'next_open',
  slippage_bps: 0,
  commission_pct: 0,
  commission_per_share: 0,
  commission_min: 0,
  volume_cap_pct: null,
}

const DEFAULTS = {
  'md.in.bar': { ts: TS.slice(0, 10), ...OHLCV },
  'md.bar': { id: BAR_ID, type: 'md.bar', ts: TS, causation_id: 'md.in:1', correlation_id: BAR_ID, symbol: 'ORCL', timeframe: '1d', ...OHLCV },
  'md.ind': {
    id: `ind:ORCL:1d:${TS}`,
    type: 'md.ind',
    ts: TS,
    causation_id: BAR_ID,
    correlation_id: BAR_ID,
    symbol: 'ORCL',
    timeframe: '1d',
    bar_id: BAR_ID,
    bar_seq: 1,
    bar: OHLCV,
    values: {},
  },
  'trade.idea': {
    id: IDEA_ID,
    type: 'trade.idea',
    ts: TS,
    causation_id: `ind:ORCL:1d:${TS}`,
    correlation_id: BAR_ID,
    account: 'main',
    strategy_id: 's',
    symbol: 'ORCL',
    side: 'buy',
    intent: 'entry',
    qty: null,
    timeframe: '1d',
    order_type: 'market',
    limit_price: null,
    stop_price: null,
    valid_bars: null,
    exit_reason: null,
    sizing: { method: 'fixed_qty', value: 100, phase5: false },
    bracket: null,
    stop_distance: null,
    max_qty: null,
    max_positions: null,
    ng_score: 0,
    dpi: null,
    dpi_regime: null,
    position_side: 'long',
    close_position: false,
    price: 50,
    bar_seq: 1,
    confidence: 100,
    reason: 'entry.long',
  },
  'trade.order': {
    id: ORDER_ID,
    type: 'trade.order',
    ts: TS,
    causation_id: IDEA_ID,
    correlation_id: BAR_ID,
    account: 'main',
    strategy_id: 's',
    symbol: 'ORCL',
    side: 'buy',
    intent: 'entry',
    qty: 10,
    idea_id: IDEA_ID,
    timeframe: '1d',
    order_type: 'market',
    limit_price: null,
    stop_price: null,
    valid_bars: null,
    exit_reason: null,
    reduce_only: false,
    close_position: false,
    ref_price: 50,
    bar_seq: 1,
    bracket: null,
    phase5: null,
  },
  'trade.order_status': {
    id: `order-status:${ORDER_ID}:rejected`,
    type: 'trade.order_status',
    ts: TS,
    causation_id: ORDER_ID,
    correlation_id: BAR_ID,
    account: 'main',
    order_id: ORDER_ID,
    idea_id: IDEA_ID,
    symbol: 'ORCL',
    status: 'rejected',
    reason: 'insufficient_cash',
  },
  'trade.fill': {
    id: `fill:${ORDER_ID}`,
    type: 'trade.fill',
    ts: TS,
    causation_id: ORDER_ID,
    correlation_id: BAR_ID,
    account: 'main',
    strategy_id: 's',
    symbol: 'ORCL',
    side: 'buy',
    intent: 'entry',
    qty: 10,
    order_id: ORDER_ID,
    idea_id: IDEA_ID,
    position_id: 'position:ORCL',
    price: 50,
    commission: 0,
    fill_model: ZERO_COSTS,
    bar_id: BAR_ID,
    bar_seq: 1,
    exit_reason: null,
    phase5: null,
  },
  'trade.position': {
    id: 'position:ORCL:1',
    type: 'trade.position',
    ts: TS,
    causation_id: `fill:${ORDER_ID}`,
    correlation_id: BAR_ID,
    account: 'main',
    position_id: 'position:ORCL',
    symbol: 'ORCL',
    side: 'long',
    qty: 10,
    avg_price: 50,
    realized_pnl: 0,
    status: 'open',
    opened_at: TS,
    closed_at: null,
    exit_reason: null,
    stop_price: null,
    target_price: null,
    seq: 1,
  },
  'trade.portfolio': {
    id: 'portfolio:main:1',
    type: 'trade.portfolio',
    ts: TS,
    causation_id: `fill:${ORDER_ID}`,
    correlation_id: BAR_ID,
    account: 'main',
    starting_cash: 10_000,
    cash: 10_000,
    equity: 10_000,
    realized_pnl: 0,
    unrealized_pnl: 0,
    peak_equity: 10_000,
    drawdown: 0,
    daily_pnl: 0,
    trade_count: 0,
    winning_trades: 0,
    open_positions: 0,
    seq: 1,
  },
  'trade.command': {
    id: 'cmd:cancel_order:main:1',
    type: 'trade.command',
    ts: TS,
    causation_id: 'cmd:cancel_order:main:1',
    correlation_id: 'cmd:cancel_order:main:1',
    account: 'main',
    command: 'cancel_order',
    order_id: null,
    symbol: null,
    idea_id: null,
    strategy_id: null,
    reason: null,
    risk: null,
    requested_by: 'ops',
  },
} satisfies { [T in Built]: Message<T> }

/** The message types message() builds. */
export type Built =
  | 'md.in.bar'
  | 'md.bar'
  | 'md.ind'
  | 'trade.idea'
  | 'trade.order'
  | 'trade.order_status'
  | 'trade.fill'
  | 'trade.position'
  | 'trade.portfolio'
  | 'trade.command'

/** A valid `type` message: the defaults above (a fresh copy) with `over` on top. */
export function message<T extends Built>(type: T, over: Partial<Message<T>> = {}): Message<T> {
  return { ...structuredClone(DEFAULTS[type] as Message<T>), ...over }
}
