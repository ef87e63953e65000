// The risk gate's promises as fast-check properties over random interleavings of ideas, fills,
// rejected orders, limit changes, halts, resumes and approvals:
//   - no order it places for an entry breaks a limit in force when it placed it (lot size, notional),
//     and none is placed while the account is halted;
//   - an exit of a position it knows of always passes, halted or not;
//   - every idea gets exactly one terminal status (auto_executed, rejected, halted_by_risk), or is
//     still waiting (for earlier orders to settle, or for a person), never both, never two;
//   - every status comes with exactly one decision.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { newRiskState, type RiskState } from '../../actors/risk-gate/state.js'
import type { Inbound, Outbound } from '../../src/core/actor.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { inbound, ofType } from '../support/actor-spec.js'
import { TestMarket } from '../support/gate-market.js'
import { message, ZERO_COSTS } from '../support/messages.js'

type Action =
  | { kind: 'idea'; symbol: number; intent: 'entry' | 'exit'; qty: number; confidence: number; price: number }
  | { kind: 'fill'; pick: number; price: number }
  | { kind: 'reject_order'; pick: number }
  | { kind: 'halt' }
  | { kind: 'resume' }
  | { kind: 'set'; max_lot_size: number | null; max_notional_per_order: number | null; min_confidence_threshold: number }
  | { kind: 'approve'; pick: number }
  | { kind: 'reject_idea'; pick: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('idea' as const),
      symbol: fc.integer({ min: 0, max: 2 }),
      intent: fc.constantFrom('entry' as const, 'exit' as const),
      qty: fc.integer({ min: 1, max: 300 }),
      confidence: fc.integer({ min: 0, max: 100 }),
      price: fc.integer({ min: 5, max: 200 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fill' as const), pick: fc.nat(), price: fc.integer({ min: 5, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reject_order' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'halt' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resume' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      max_lot_size: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
      max_notional_per_order: fc.option(fc.integer({ min: 100, max: 20_000 }), { nil: null }),
      min_confidence_threshold: fc.integer({ min: 0, max: 100 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('approve' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reject_idea' as const), pick: fc.nat() }) },
)

const SYMBOLS = ['AAA', 'BBB', 'CCC']
const market = new TestMarket(130, SYMBOLS)
const TERMINAL = new Set(['auto_executed', 'rejected', 'halted_by_risk'])

describe('risk gate properties (fast-check)', () => {
  it('hold for any interleaving of ideas, fills, limit changes, halts and approvals', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 20, maxLength: 120 }), fc.boolean(), (actions, haltOnDrawdown) => {
        const acct = parseConfig({ accounts: [{ id: 'p', starting_cash: 50_000, risk: { max_drawdown_amount: 1500, halt_on_drawdown: haltOnDrawdown } }] })
          .accounts[0]!
        let state: RiskState = newRiskState(acct.starting_cash, acct.risk)
        let seq = 0
        let day = 1
        const ts = () => new Date(Date.UTC(2024, 0, day)).toISOString()
        const handle = market.gate(acct)
        const orders: Message<'trade.order'>[] = []
        const dayOf = new Map<string, number>()
        const ideas = new Map<string, Message<'trade.idea'>>()
        const terminal = new Map<string, string[]>()
        let statuses = 0
        let decisionsOnIdeas = 0
        const feed = (input: Inbound) => {
          const before = structuredClone({ halted: state.halted, risk: state.risk })
          const step = handle(state, input)
          state = step.state
          const emit: Outbound[] = step.emit ?? []
          for (const o of ofType(emit, 'trade.order')) {
            if (o.intent === 'entry') {
              // No entry placed while halted, nor above a limit in force.
              expect(before.halted ?? false).toBe(false)
              if (before.risk?.max_lot_size != null) expect(o.qty).toBeLessThanOrEqual(before.risk.max_lot_size)
              if (before.risk?.max_notional_per_order != null) expect(o.qty * o.ref_price).toBeLessThanOrEqual(before.risk.max_notional_per_order)
            }
            orders.push(o)
          }
          for (const s of ofType(emit, 'trade.idea_status')) {
            statuses++
            if (TERMINAL.has(s.status)) terminal.set(s.idea_id, [...(terminal.get(s.idea_id) ?? []), s.status])
          }
          decisionsOnIdeas += ofType(emit, 'trade.decision').filter((d) => d.idea_id !== null).length
          return emit
        }
        const command = (command: Message<'trade.command'>['command'], extra: Partial<Message<'trade.command'>> = {}) => {
          const id = `cmd:${++seq}`
          feed(
            inbound(
              'trade.command',
              message('trade.command', { id, ts: ts(), causation_id: id, correlation_id: id, account: 'p', command, requested_by: 'prop', ...extra }),
              { seq: ++seq },
            ),
          )
        }
        for (const a of actions) {
          day++
          switch (a.kind) {
            case 'idea': {
              const symbol = SYMBOLS[a.symbol]!
              const id = `idea:${++seq}`
              const books = state.ledger.books.positions
              const held = books[symbol]?.qty ?? 0
              const idea = message('trade.idea', {
                id,
                ts: ts(),
                causation_id: 'c',
                correlation_id: 'c',
                account: 'p',
                symbol,
                side: a.intent === 'entry' ? 'buy' : 'sell',
                intent: a.intent,
                qty: a.intent === 'entry' ? a.qty : null,
                timeframe: '1m',
                exit_reason: a.intent === 'exit' ? 'signal' : null,
                sizing: a.intent === 'entry' ? { method: 'fixed_qty', value: a.qty, phase5: false } : null,
                close_position: a.intent === 'exit',
                price: a.price,
                bar_seq: market.seqOf(symbol, day),
                confidence: a.confidence,
                reason: 'prop',
              })
              ideas.set(id, idea)
              dayOf.set(`order:${id}`, day)
              const emit = feed(inbound('trade.idea', idea, { seq: ++seq }))
              // An exit of a position the gate's books hold when it is judged always passes.
              const judged = ofType(emit, 'trade.idea_status').find((s) => s.idea_id === id)
              if (a.intent === 'exit' && held > 0 && judged && state.ledger.books.positions[symbol]) expect(judged.status).toBe('auto_executed')
              break
            }
            case 'fill':
            case 'reject_order': {
              const open = orders.filter((o) => state.ledger.orders[o.id] && !state.ledger.orders[o.id]!.settled)
              if (!open.length) break
              const o = open[a.pick % open.length]!
              // It settles on the next bar of its symbol after the one it was decided on.
              const fillDay = (dayOf.get(o.id) ?? day) + 1
              if (a.kind === 'fill') {
                if (o.qty <= 0) break
                feed(
                  inbound(
                    'trade.fill',
                    message('trade.fill', {
                      id: `fill:${o.id}`,
                      ts: new Date(Date.UTC(2024, 0, fillDay)).toISOString(),
                      causation_id: o.id,
                      correlation_id: 'c',
                      account: 'p',
                      symbol: o.symbol,
                      side: o.side,
                      intent: o.intent,
                      qty: o.qty,
                      order_id: o.id,
                      idea_id: o.idea_id,
                      position_id: `pos:${o.symbol}`,
                      price: a.price,
                      commission: 1,
                      bar_id: 'b',
                      bar_seq: market.seqOf(o.symbol, fillDay),
                      fill_model: { ...ZERO_COSTS, commission_min: 1 },
                    }),
                    { seq: ++seq },
                  ),
                )
              } else {
                feed(
                  inbound(
                    'trade.order_status',
                    message('trade.order_status', {
                      id: `os:${o.id}`,
                      ts: ts(),
                      causation_id: o.id,
                      correlation_id: 'c',
                      account: 'p',
                      order_id: o.id,
                      idea_id: o.idea_id,
                      symbol: o.symbol,
                      reason: 'prop',
                    }),
                    { seq: ++seq },
                  ),
                )
              }
              break
            }
            case 'halt':
              command('risk_halt', { reason: 'prop' })
              break
            case 'resume':
              command('risk_resume')
              break
            case 'set':
              command('risk_set', {
                risk: { max_lot_size: a.max_lot_size, max_notional_per_order: a.max_notional_per_order, min_confidence_threshold: a.min_confidence_threshold },
              })
              break
            case 'approve':
            case 'reject_idea': {
              const waiting = Object.keys(state.approvals ?? {})
              if (waiting.length) command(a.kind === 'approve' ? 'idea_approve' : 'idea_reject', { idea_id: waiting[a.pick % waiting.length]! })
              break
            }
          }
        }
        // Exactly one terminal status per idea, and none for an idea still waiting.
        for (const [id, list] of terminal) expect(list, id).toHaveLength(1)
        const waiting = new Set([...state.queue.flatMap((t) => ('idea' in t ? [t.idea.id] : [])), ...Object.keys(state.approvals)])
        for (const id of waiting) expect(terminal.has(id), id).toBe(false)
        for (const id of ideas.keys()) expect(terminal.has(id) || waiting.has(id), `idea ${id} has neither a terminal status nor a place to wait`).toBe(true)
        expect(decisionsOnIdeas).toBe(statuses)
      }),
      { numRuns: 150 },
    )
  })
})
