import { describe, expect, it } from 'vitest'
import { persister, scope, writesOf } from '../../actors/persister.js'
import type { Inbound, Write } from '../../src/core/actor.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message, MessageType } from '../../src/core/contracts.js'
import { inbound } from '../support/actor-spec.js'
import { message } from '../support/messages.js'
import { runPipeline } from '../support/pipeline.js'
import { syntheticBars } from '../../src/app/synthetic-bars.js'
import canonical from '../../examples/canonical.json' with { type: 'json' }

/** One real message of every type, from an in-memory run of the canonical strategy. */
async function samples(): Promise<Map<MessageType, Inbound>> {
  const { streams } = await runPipeline(
    parseConfig(canonical),
    syntheticBars(250, { seed: 7 }).map((b) => ({ symbol: 'ORCL', bar: b })),
  )
  const out = new Map<MessageType, Inbound>()
  for (const m of streams.log) if (!out.has(m.type)) out.set(m.type, m)
  return out
}
const real = await samples()
const sample = <T extends MessageType>(type: T): Inbound<T> => {
  const m = real.get(type)
  if (!m) throw new Error(`the pipeline run produced no ${type}`)
  return m as Inbound<T>
}

const tables = (writes: Write[]) => writes.map((w) => w.table)

describe('persister.writesOf: each message type → its rows', () => {
  it('md.bar → snapshot_market', () => {
    const m = sample('md.bar')
    const d = m.data
    expect(writesOf(m)).toEqual([
      {
        table: 'snapshot_market',
        row: { symbol: d.symbol, timeframe: d.timeframe, ts: d.ts, open: d.open, high: d.high, low: d.low, close: d.close, volume: d.volume },
      },
    ])
  })

  it('md.ind → snapshot_indicators with values keyed by declared name', () => {
    const m = real.get('md.ind') as Inbound<'md.ind'>
    const d = m.data
    expect(writesOf(m)).toEqual([{ table: 'snapshot_indicators', row: { symbol: d.symbol, timeframe: d.timeframe, ts: d.ts, values: d.values } }])
  })

  it('trade.idea → trade_ideas, status waiting at rank 0', () => {
    const m = sample('trade.idea')
    const [w] = writesOf(m)
    expect(w!.table).toBe('trade_ideas')
    expect(w!.row).toMatchObject({
      id: m.data.id,
      account: 'main',
      strategy_id: 'sma-cross',
      symbol: 'ORCL',
      side: m.data.side,
      qty: m.data.qty,
      confidence: m.data.confidence,
      status: 'waiting',
      status_rank: 0,
      reason: m.data.reason,
      ts: m.data.ts,
    })
  })

  it('trade.idea_status → the same trade_ideas row (keyed by idea id), with a higher rank for final statuses', () => {
    const m = sample('trade.idea_status')
    const [w] = writesOf(m)
    expect(w!.table).toBe('trade_ideas')
    expect(w!.row).toMatchObject({ id: m.data.idea_id, status: m.data.status, reason: m.data.reason, ts: m.data.ts })
    const rank = (status: Message<'trade.idea_status'>['status']) => writesOf({ ...m, data: { ...m.data, status } } as Inbound)[0]!.row.status_rank as number
    expect(rank('needs_approval')).toBeGreaterThan(0)
    for (const s of ['auto_executed', 'rejected', 'halted_by_risk'] as const) expect(rank(s)).toBeGreaterThan(rank('needs_approval'))
  })

  it('trade.decision → decision_history (append-only audit), with causation and override fields', () => {
    const m = sample('trade.decision')
    const d = m.data
    expect(writesOf(m)).toEqual([
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
          human_override: false,
          requested_by: null,
          confidence: d.confidence ?? null,
        },
      },
    ])
  })

  it('trade.idea → its prices at the signal close, its rationale and its bar (kept when statuses come)', () => {
    const m = sample('trade.idea')
    const d: Message<'trade.idea'> = { ...m.data, side: 'buy', intent: 'entry', price: 100, limit_price: null, stop_price: null }
    const bracket: Message<'trade.idea'>['bracket'] = { stop_loss: { kind: 'pct', value: 0.05 }, take_profit: { kind: 'rr', value: 2 }, max_bars: null }
    const idea = (data: Message<'trade.idea'>): Inbound => ({ ...m, data })
    const [w] = writesOf(idea({ ...d, bracket }))
    expect(w!.row).toMatchObject({
      entry_price: 100,
      stop_price: 95,
      take_profit_price: 110,
      rationale: d.reason,
      timeframe: d.timeframe,
      bar_id: d.correlation_id,
      bar_seq: d.bar_seq,
    })
    const short = writesOf(idea({ ...d, side: 'sell', limit_price: 102, bracket: { ...bracket!, stop_loss: { kind: 'price', value: 105 } } }))
    expect(short[0]!.row).toMatchObject({ entry_price: 102, stop_price: 105, take_profit_price: 96 })
    const exit = writesOf(idea({ ...d, intent: 'exit', bracket: null }))
    expect(exit[0]!.row).toMatchObject({ entry_price: 100, stop_price: null, take_profit_price: null })
  })

  it('trade.order → orders, working', () => {
    const m = sample('trade.order')
    expect(writesOf(m)).toEqual([
      {
        table: 'orders',
        row: expect.objectContaining({
          order_id: m.data.id,
          idea_id: m.data.idea_id,
          status: 'working',
          status_rank: 0,
          ref_price: m.data.ref_price,
          ts: m.data.ts,
        }),
      },
    ])
  })

  it('trade.order_status → the orders row, with its final status and reason', () => {
    const o = sample('trade.order').data
    const m = inbound(
      'trade.order_status',
      message('trade.order_status', {
        id: `order-status:${o.id}:rejected`,
        ts: o.ts,
        causation_id: o.id,
        correlation_id: o.correlation_id,
        order_id: o.id,
        idea_id: o.idea_id,
        symbol: o.symbol,
        status: 'rejected',
        reason: 'insufficient_cash',
      }),
      { seq: 1 },
    )
    const [w] = writesOf(m)
    expect(w).toEqual({ table: 'orders', row: expect.objectContaining({ order_id: o.id, status: 'rejected', reason: 'insufficient_cash', status_rank: 1 }) })
  })

  it('trade.fill → one trades row (trade_id = fill id) and the order marked filled', () => {
    const m = sample('trade.fill')
    const d = m.data
    const writes = writesOf(m)
    expect(tables(writes)).toEqual(['trades', 'orders'])
    expect(writes[0]!.row).toEqual({
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
      order_id: d.order_id,
      idea_id: d.idea_id,
      fill_model: d.fill_model,
      exit_reason: d.exit_reason,
      is_simulation: true,
      ng_score: null,
      ng_multiplier: null,
      brier_adjustment: null,
      dpi_enhancement: null,
    })
    expect(writes[1]!.row).toMatchObject({ order_id: d.order_id, status: 'filled', status_rank: 1 })
  })

  it('trade.position → positions, with the books version', () => {
    const m = sample('trade.position')
    const d = m.data
    expect(writesOf(m)).toEqual([
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
    ])
  })

  it('trade.portfolio → accounts, portfolio_state and portfolio_history (versioned by orders_seq, seq), and what it supersedes', () => {
    const m = sample('trade.portfolio')
    const d = m.data
    const writes = writesOf(m)
    expect(d.supersedes_from).toBe(d.fold_seq! + 1) // a fill's point
    expect(tables(writes)).toEqual(['accounts', 'portfolio_state', 'portfolio_history', 'portfolio_supersessions'])
    expect(writes[3]!.row).toEqual({ account: 'main', from_fold_seq: d.supersedes_from, orders_seq: d.orders_seq })
    expect(writes[0]!.row).toEqual({ id: 'main', starting_cash: 10000 })
    expect(writes[1]!.row).toMatchObject({
      account: 'main',
      cash: d.cash,
      equity: d.equity,
      peak_equity: d.peak_equity,
      drawdown: d.drawdown,
      trade_count: d.trade_count,
      winning_trades: d.winning_trades,
      seq: d.seq,
      message_id: d.id,
    })
    expect(writes[2]!.row).toMatchObject({ id: d.id, account: 'main', ts: d.ts, seq: d.seq, equity: d.equity, fold_seq: d.fold_seq, orders_seq: d.orders_seq })
  })

  it('dlq → dead_letters', () => {
    const data: Message<'dlq'> = {
      id: 'dlq:market-snapshots:MD_IN:9',
      type: 'dlq',
      ts: '2024-01-02T00:00:00.000Z',
      actor: 'market-snapshots',
      reason: 'invalid JSON',
      subject: 'md.in.bar.ORCL',
      stream: 'MD_IN',
      stream_seq: 9,
      deliveries: 1,
      msg_id: null,
      payload: '{',
      payload_bytes: 1,
    }
    const m = inbound('dlq', data, { seq: 1 })
    expect(writesOf(m)).toEqual([
      {
        table: 'dead_letters',
        row: {
          id: data.id,
          actor: data.actor,
          reason: data.reason,
          subject: data.subject,
          stream: data.stream,
          stream_seq: 9,
          deliveries: 1,
          msg_id: null,
          payload: '{',
          payload_bytes: 1,
          ts: data.ts,
        },
      },
    ])
  })

  it('md.in.bar (never consumed by the persister) → no rows', () => {
    expect(writesOf(inbound('md.in.bar', { ts: '2024-01-02', open: 1, high: 1, low: 1, close: 1, volume: 0 }, { seq: 1, tokens: { symbol: 'X' } }))).toEqual([])
  })

  it('the same message always gives the same rows (idempotent upserts need stable keys)', () => {
    for (const m of real.values()) expect(JSON.stringify(writesOf(m))).toBe(JSON.stringify(writesOf(structuredClone(m))))
  })

  it('the actor is an unordered sink over the whole TRADE, MD, SIGNALS, DLQ and IMPORT streams, and its handler only returns writes', () => {
    const def = persister()
    expect(def.ordered).toBe(false)
    expect(scope.inputs.map((i) => [i.stream, i.filter])).toEqual([
      ['TRADE', undefined],
      ['MD', undefined],
      ['SIGNALS', undefined],
      ['DLQ', undefined],
      ['IMPORT', undefined],
    ])
    const m = sample('trade.fill')
    expect(def.handle(null, m, scope, [])).toEqual({ state: null, writes: writesOf(m) })
  })
})
