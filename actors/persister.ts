// persister: the only writer to Postgres. Its handler is pure — it maps each message to row writes —
// and the store port commits a whole batch of them in one transaction with the consumer positions,
// after which the runtime acks. Every table has a natural key (ON CONFLICT), and state tables carry a
// version guard, so redeliveries and replays change nothing. Any number of instances may run.
import { defineActor, type Inbound, type Scope, type Step, type Write } from '../src/core/actor.js'
import type { Message } from '../src/core/contracts.js'

export const scope: Scope = {
  key: 'all',
  inputs: [
    {
      name: 'trade',
      stream: 'TRADE',
      accepts: [
        'trade.idea',
        'trade.idea_status',
        'trade.decision',
        'trade.order',
        'trade.order_status',
        'trade.fill',
        'trade.position',
        'trade.portfolio',
        'trade.risk_state',
        'trade.strategy',
      ],
    },
    { name: 'md', stream: 'MD', accepts: ['md.bar', 'md.ind'] },
    { name: 'signals', stream: 'SIGNALS', accepts: ['strategy.signal', 'metrics.phase5'] },
    { name: 'dlq', stream: 'DLQ', accepts: ['dlq'] },
    { name: 'import', stream: 'IMPORT', accepts: ['import.trade', 'import.portfolio'] },
  ],
}

const IDEA_RANK = { waiting: 0, needs_approval: 1, auto_executed: 2, rejected: 2, halted_by_risk: 2 } as const
const ORDER_RANK = { working: 0, filled: 1, rejected: 1, cancelled: 1 } as const

export function writesOf(input: Inbound): Write[] {
  switch (input.type) {
    case 'md.bar': {
      const { symbol, timeframe, ts, open, high, low, close, volume } = input.data
      return [{ table: 'snapshot_market', row: { symbol, timeframe, ts, open, high, low, close, volume } }]
    }
    case 'md.ind': {
      const { symbol, timeframe, ts, values } = input.data
      return [{ table: 'snapshot_indicators', row: { symbol, timeframe, ts, values } }]
    }
    case 'trade.idea': {
      const d = input.data
      return [
        {
          table: 'trade_ideas',
          row: {
            id: d.id,
            account: d.account,
            strategy_id: d.strategy_id,
            symbol: d.symbol,
            side: d.side,
            intent: d.intent,
            qty: d.qty,
            confidence: d.confidence,
            status: 'waiting',
            status_rank: IDEA_RANK.waiting,
            reason: d.reason,
            ts: d.ts,
            order_type: d.order_type,
            exit_reason: d.exit_reason,
            ...ideaPrices(d),
            rationale: d.reason,
            timeframe: d.timeframe,
            bar_id: d.correlation_id,
            bar_seq: d.bar_seq,
          },
        },
      ]
    }
    case 'trade.idea_status': {
      const d = input.data
      return [
        {
          table: 'trade_ideas',
          row: {
            id: d.idea_id,
            account: d.account,
            strategy_id: d.strategy_id,
            symbol: d.symbol,
            side: d.side,
            intent: d.intent,
            qty: d.qty,
            confidence: d.confidence,
            status: d.status,
            status_rank: IDEA_RANK[d.status],
            reason: d.reason,
            ts: d.ts,
            order_type: null,
            exit_reason: null,
            entry_price: null,
            stop_price: null,
            take_profit_price: null,
            rationale: null,
            timeframe: null,
            bar_id: null,
            bar_seq: null,
          },
        },
      ]
    }
    case 'trade.decision': {
      const d = input.data
      return [
        {
          table: 'decision_history',
          row: {
            id: d.id,
            occurred_at: d.ts,
            account: d.account,
            symbol: d.symbol,
            action: d.action,
            status: d.status,
            risk_check_result: d.risk_check_result,
            rationale: d.rationale,
            idea_id: d.idea_id,
            strategy_id: d.strategy_id,
            causation_id: d.causation_id,
            correlation_id: d.correlation_id,
            human_override: d.human_override,
            requested_by: d.requested_by,
            confidence: d.confidence ?? null,
          },
        },
      ]
    }
    case 'trade.order': {
      const d = input.data
      return [
        {
          table: 'orders',
          row: {
            order_id: d.id,
            account: d.account,
            idea_id: d.idea_id,
            strategy_id: d.strategy_id,
            symbol: d.symbol,
            side: d.side,
            intent: d.intent,
            qty: d.qty,
            order_type: d.order_type,
            ref_price: d.ref_price,
            status: 'working',
            status_rank: ORDER_RANK.working,
            reason: null,
            ts: d.ts,
            exit_reason: d.exit_reason,
          },
        },
      ]
    }
    case 'trade.order_status': {
      const d = input.data
      return [
        {
          table: 'orders',
          row: {
            order_id: d.order_id,
            account: d.account,
            idea_id: d.idea_id,
            strategy_id: null,
            symbol: d.symbol,
            side: null,
            intent: null,
            qty: null,
            order_type: null,
            ref_price: null,
            status: d.status,
            status_rank: ORDER_RANK[d.status],
            reason: d.reason,
            ts: d.ts,
            exit_reason: null,
          },
        },
      ]
    }
    case 'trade.fill': {
      const d = input.data
      return [
        { table: 'trades', row: tradesRow(d, { order_id: d.order_id, idea_id: d.idea_id, fill_model: d.fill_model, is_simulation: true }) },
        {
          table: 'orders',
          row: {
            order_id: d.order_id,
            account: d.account,
            idea_id: d.idea_id,
            strategy_id: d.strategy_id,
            symbol: d.symbol,
            side: d.side,
            intent: d.intent,
            qty: null,
            order_type: null,
            ref_price: null,
            status: 'filled',
            status_rank: ORDER_RANK.filled,
            reason: null,
            ts: null,
            exit_reason: null,
          },
        },
      ]
    }
    case 'trade.position': {
      const d = input.data
      return [
        {
          table: 'positions',
          row: {
            position_id: d.position_id,
            account: d.account,
            symbol: d.symbol,
            side: d.side,
            qty: d.qty,
            avg_price: d.avg_price,
            realized_pnl: d.realized_pnl,
            status: d.status,
            exit_reason: d.exit_reason,
            opened_at: d.opened_at,
            closed_at: d.closed_at,
            seq: d.seq,
            stop_price: d.stop_price,
            target_price: d.target_price,
          },
        },
      ]
    }
    case 'trade.portfolio': {
      const d = input.data
      const orders = d.orders_seq ?? 0
      return [
        { table: 'accounts', row: { id: d.account, starting_cash: d.starting_cash } },
        {
          table: 'portfolio_state',
          row: {
            account: d.account,
            cash: d.cash,
            equity: d.equity,
            realized_pnl: d.realized_pnl,
            unrealized_pnl: d.unrealized_pnl,
            peak_equity: d.peak_equity,
            drawdown: d.drawdown,
            daily_pnl: d.daily_pnl,
            trade_count: d.trade_count,
            winning_trades: d.winning_trades,
            open_positions: d.open_positions,
            seq: d.seq,
            orders_seq: orders,
            fold_seq: d.fold_seq ?? null,
            ts: d.ts,
            message_id: d.id,
          },
        },
        {
          table: 'portfolio_history',
          row: {
            id: d.id,
            account: d.account,
            ts: d.ts,
            seq: d.seq,
            cash: d.cash,
            equity: d.equity,
            realized_pnl: d.realized_pnl,
            unrealized_pnl: d.unrealized_pnl,
            drawdown: d.drawdown,
            daily_pnl: d.daily_pnl,
            fold_seq: d.fold_seq ?? null,
            orders_seq: orders,
            supersedes_from: d.supersedes_from ?? null,
          },
        },
        // What the points after it in the account's fold knew fewer orders than this one withdraws (equity_points).
        ...(d.supersedes_from != null
          ? [{ table: 'portfolio_supersessions', row: { account: d.account, from_fold_seq: d.supersedes_from, orders_seq: orders } }]
          : []),
      ]
    }
    case 'trade.risk_state': {
      const d = input.data
      return [
        {
          table: 'risk_config',
          row: {
            account: d.account,
            risk: d.risk,
            halted: d.halted,
            last_halt_reason: d.last_halt_reason,
            updated_by: d.updated_by,
            version: d.version,
            ts: d.ts,
          },
        },
        {
          table: 'risk_config_history',
          row: {
            id: d.id,
            account: d.account,
            version: d.version,
            risk: d.risk,
            halted: d.halted,
            last_halt_reason: d.last_halt_reason,
            updated_by: d.updated_by,
            ts: d.ts,
          },
        },
      ]
    }
    case 'trade.strategy': {
      const d = input.data
      return [
        {
          table: 'strategies',
          row: {
            strategy_id: d.strategy_id,
            version: d.version,
            account: d.account,
            action: d.action,
            definition: d.definition,
            updated_by: d.updated_by,
            ts: d.ts,
            message_id: d.id,
          },
        },
      ]
    }
    case 'metrics.phase5': {
      const { type: _type, causation_id: _c, correlation_id: _r, ...row } = input.data
      return [{ table: 'phase5_metrics', row }]
    }
    case 'strategy.signal': {
      const d = input.data
      return [
        {
          table: 'strategy_signals',
          row: {
            id: d.id,
            account: d.account,
            strategy_id: d.strategy_id,
            ts: d.ts,
            consensus: d.consensus,
            confidence: d.confidence,
            risk_on_weight: d.risk_on_weight,
            risk_off_weight: d.risk_off_weight,
            holding: d.holding,
            signals: d.signals,
          },
        },
      ]
    }
    case 'dlq': {
      const d = input.data
      return [
        {
          table: 'dead_letters',
          row: {
            id: d.id,
            actor: d.actor,
            reason: d.reason,
            subject: d.subject,
            stream: d.stream,
            stream_seq: d.stream_seq,
            deliveries: d.deliveries,
            msg_id: d.msg_id,
            payload: d.payload,
            payload_bytes: d.payload_bytes,
            ts: d.ts,
          },
        },
      ]
    }
    case 'import.trade': {
      // A legacy fill: its own id stands for the order and idea it had none of.
      const d = input.data
      const fill_model = { model: 'imported', source: d.source, original: d.original }
      return [{ table: 'trades', row: tradesRow(d, { order_id: d.id, idea_id: d.id, fill_model, is_simulation: d.is_simulation }) }]
    }
    case 'import.portfolio': {
      const d = input.data
      const books = { cash: d.cash, equity: d.equity, realized_pnl: d.realized_pnl, unrealized_pnl: d.equity - d.cash, drawdown: 0, daily_pnl: null }
      return [
        { table: 'accounts', row: { id: d.account, starting_cash: d.starting_cash } },
        {
          table: 'portfolio_history',
          row: { id: d.id, account: d.account, ts: d.ts, seq: 0, ...books, fold_seq: null, orders_seq: 0, supersedes_from: null },
        },
        // Seq 0: the account's state only while paperd has none (every books version of the executor is later).
        ...(d.current
          ? [
              {
                table: 'portfolio_state',
                row: {
                  account: d.account,
                  ...books,
                  peak_equity: d.equity,
                  trade_count: d.trade_count,
                  winning_trades: d.winning_trades,
                  open_positions: 0,
                  seq: 0,
                  orders_seq: 0,
                  fold_seq: null,
                  ts: d.ts,
                  message_id: d.id,
                },
              },
            ]
          : []),
      ]
    }
    default:
      return []
  }
}

/** A `trades` row: a fill of paperd's executor, or one a legacy system made (paperd import). */
function tradesRow(
  d: Message<'trade.fill'> | Message<'import.trade'>,
  origin: { order_id: string; idea_id: string; fill_model: unknown; is_simulation: boolean },
): Record<string, unknown> {
  return {
    trade_id: d.id,
    account: d.account,
    strategy_id: d.strategy_id,
    symbol: d.symbol,
    side: d.side,
    qty: d.qty,
    price: d.price,
    commission: d.commission,
    ts: d.ts,
    intent: d.intent,
    position_id: d.position_id,
    ...origin,
    exit_reason: d.exit_reason,
    ng_score: d.phase5?.ng_score ?? null,
    ng_multiplier: d.phase5?.ng_multiplier ?? null,
    brier_adjustment: d.phase5?.brier_adjustment ?? null,
    dpi_enhancement: d.phase5?.dpi_enhancement ?? null,
  }
}

/**
 * An idea's prices as the Blueprint records them, at the signal close: where it would enter (the
 * limit or stop of an entry order, else the close), and for an entry its stop and target from its
 * bracket (the executor measures them from the fill price; these are what the idea proposed).
 */
function ideaPrices(d: Message<'trade.idea'>): { entry_price: number; stop_price: number | null; take_profit_price: number | null } {
  const entry = d.limit_price ?? d.stop_price ?? d.price
  const sign = d.side === 'buy' ? 1 : -1
  const stop = d.bracket?.stop_loss
  const target = d.bracket?.take_profit
  const stopPrice = !stop ? null : stop.kind === 'price' ? stop.value : stop.kind === 'pct' ? entry * (1 - sign * stop.value) : entry - sign * stop.value
  const distance = stopPrice === null ? null : Math.abs(entry - stopPrice)
  const targetPrice = !target
    ? null
    : target.kind === 'price'
      ? target.value
      : target.kind === 'pct'
        ? entry * (1 + sign * target.value)
        : target.kind === 'rr'
          ? distance === null
            ? null
            : entry + sign * target.value * distance
          : entry + sign * target.value
  return { entry_price: entry, stop_price: d.intent === 'entry' ? stopPrice : null, take_profit_price: d.intent === 'entry' ? targetPrice : null }
}

/** The rows go to the store the composition root gives the runtime (src/runtime/sink.ts). */
export const persister = () =>
  defineActor<null>({
    name: 'persister',
    ordered: false,
    scopes: [scope],
    init: () => null,
    handle: (state, input): Step<null> => ({ state, writes: writesOf(input) }),
  })
