// Gauges read at scrape time from what the process runs: each account's books (paper-executor) and
// risk state (risk-gate), and the lag of every paperd durable consumer. Labels are accounts, streams
// and durable names — all bounded by the config, never ids (other consumers are not reported).
import type { JetStreamManager } from '@nats-io/jetstream'
import { Gauge, type Registry } from 'prom-client'
import { valuation } from '../../actors/lib/books.js'
import type { ExecutorState } from '../../actors/paper-executor.js'
import { brierScore, phase5Metrics } from '../../actors/lib/phase5.js'
import type { RiskState } from '../../actors/risk-gate/state.js'
import { sessionTest } from '../../actors/lib/sessions.js'
import type { AnyStrategyConfig } from '../core/config-file/strategies.js'
import { STREAMS } from '../core/contracts.js'
import { isPaperdDurable, pendingOf } from '../runtime/topology.js'

export function registerStateMetrics(registry: Registry, states: Map<string, () => unknown>, jsm: JetStreamManager | null): void {
  const accounts = (actor: string) =>
    [...states.keys()].filter((k) => k.startsWith(`${actor}.`)).map((k) => ({ account: k.slice(actor.length + 1), read: states.get(k)! }))
  /** A gauge per account, read from the state of the given actor's scopes at scrape time. */
  const perAccount =
    <S>(actor: string) =>
    (name: string, help: string, pick: (s: S) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['account'] as const,
        registers: [registry],
        collect() {
          this.reset()
          for (const { account, read } of accounts(actor)) this.set({ account }, pick(read() as S))
        },
      })
  const books = perAccount<ExecutorState>('paper-executor')
  books('paperd_account_equity', 'Account equity at the latest marks (currency units)', (s) => valuation(s.books).equity)
  books('paperd_account_cash', 'Account cash (currency units)', (s) => s.books.cash)
  books('paperd_account_drawdown', 'Peak equity minus equity (currency units)', (s) => {
    const equity = valuation(s.books).equity
    return Math.max(0, Math.max(s.books.peak_equity, equity) - equity)
  })
  books('paperd_account_realized_pnl', 'Realized P&L, net of commissions (currency units)', (s) => s.books.realized_pnl)
  books('paperd_account_open_positions', 'Open positions', (s) => Object.keys(s.books.positions).length)
  books('paperd_account_exposure', 'Sum of |position| × mark (currency units)', (s) =>
    Object.entries(s.books.positions).reduce((a, [sym, p]) => a + Math.abs(p.qty) * (s.books.marks[sym]?.price ?? p.avg_price), 0),
  )
  books('paperd_account_working_orders', 'Orders waiting for their fill bar', (s) => Object.values(s.working).reduce((a, o) => a + o.length, 0))

  const risk = perAccount<RiskState>('risk-gate')
  risk('paperd_account_halted', '1 while the account is halted (entries end halted_by_risk)', (s) => (s.halted ? 1 : 0))
  risk('paperd_ideas_pending_approval', 'Ideas waiting for a person', (s) => Object.keys(s.approvals ?? {}).length)
  risk('paperd_phase5_brier_score', 'Brier score of the account (0.5 with no outcome yet)', (s) => brierScore(s.brier))
  const p5 = (s: RiskState) => phase5Metrics({ brier: s.brier, stats: s.stats, dpiRegime: s.regime })
  risk('paperd_phase5_avg_ng_score', 'Mean NarrativeGap score of the Phase-5 entries (0 before the first)', (s) => p5(s).avg_ng_score)
  risk('paperd_phase5_avg_dpi_enhancement', 'Mean DPI sizing factor of the Phase-5 entries (1 before the first)', (s) => p5(s).avg_dpi_enhancement)
  risk('paperd_phase5_predictions', 'Phase-5 forecasts with an outcome (the Brier score is over these)', (s) => p5(s).prediction_count)
  risk('paperd_risk_max_drawdown_amount', 'The account drawdown limit (currency units; 0 when none)', (s) => s.risk?.max_drawdown_amount ?? 0)

  if (!jsm) return
  const lag = (name: string, help: string, field: 'num_pending' | 'num_ack_pending' | 'num_redelivered') =>
    new Gauge({
      name,
      help,
      labelNames: ['stream', 'consumer'] as const,
      registers: [registry],
      async collect() {
        this.reset()
        for (const stream of Object.keys(STREAMS)) {
          try {
            const last = field === 'num_pending' ? (await jsm.streams.info(stream)).state.last_seq : 0
            // Only paperd's durables: an ephemeral consumer is not lag, and its random name is no label.
            for await (const c of jsm.consumers.list(stream))
              if (isPaperdDurable(c)) this.set({ stream, consumer: c.name }, field === 'num_pending' ? pendingOf(c, last) : c[field])
          } catch {
            // the stream is not there yet
          }
        }
      },
    })
  lag('paperd_consumer_pending_messages', 'Messages not yet delivered to a durable consumer', 'num_pending')
  lag('paperd_consumer_ack_pending_messages', 'Messages delivered and not yet acknowledged', 'num_ack_pending')
  lag('paperd_consumer_redelivered_messages', 'Messages delivered more than once, now', 'num_redelivered')
}

/**
 * Whether each strategy that declares session_windows is inside one now, by the wall clock — the one
 * thing here that is about the present rather than the data: it lets an alert tell "no bars while
 * the market is open" from a quiet night. Strategies without windows have no series.
 */
export function registerSessionMetrics(registry: Registry, strategies: readonly AnyStrategyConfig[], now: () => Date = () => new Date()): void {
  const tests = strategies.flatMap((s) =>
    'session_windows' in s && s.session_windows?.length ? [{ strategy: s.id, open: sessionTest(s.session_windows) }] : [],
  )
  new Gauge({
    name: 'paperd_strategy_session_open',
    help: "1 while one of the strategy's session windows is open by the wall clock, else 0 (strategies that declare session_windows)",
    labelNames: ['strategy'] as const,
    registers: [registry],
    collect() {
      this.reset()
      const ts = now().toISOString()
      for (const t of tests) this.set({ strategy: t.strategy }, t.open(ts) ? 1 : 0)
    },
  })
}
