// The operator control plane over NATS request/reply (SPEC §5.3, §5.4): JSON on plain `ctl.*`
// subjects, the account in the body, so an operator types one subject whatever the deployment.
//
// Reads answer from the running scope's state. Commands that change an account are never applied
// here: they are written into the account's stream (trade.command.<ACCT>) so the owning actor applies
// them in order with everything else, and survive restarts and replays like any input; the reply waits
// for the actor's trade.command_status. Every process that runs the actor subscribes; only the one
// that runs the account's scope answers (an unknown account is answered by all, identically).
import { randomUUID } from 'node:crypto'
import type { JetStreamClient } from '@nats-io/jetstream'
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { z } from 'zod'
import { valuation } from '../actors/lib/books.js'
import type { ExecutorState } from '../actors/paper-executor.js'
import { pendingView, riskView, strategiesView, type RiskState } from '../actors/risk-gate.js'
import type { ActorName } from './actor.js'
import type { Codec, Encoded } from './codec.js'
import { RiskPatch, type ConfigFile } from './config-file.js'
import { ACCOUNT_PATTERN, COMMANDS, SYMBOL_PATTERN, subjectOf, type Message } from './contracts.js'
import type { Logger } from './log.js'
import type { MicroEndpoint } from './micro.js'

/** How long a command request waits for the actor to apply it. */
export const COMMAND_REPLY_MS = 10_000
/** How often pending approvals are checked against their wall-time timeout. */
const EXPIRY_CHECK_MS = 1_000

const Account = z.string().regex(new RegExp(ACCOUNT_PATTERN), 'an account id')
const By = z.string().min(1).max(100).describe('who asks')
const RequestId = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/).optional().describe('makes a retried request idempotent')

const IdeaId = z.string().min(1).max(256)
const requests = {
  'ctl.portfolio.get': z.object({ account: Account }).strict(),
  'ctl.orders.cancel': z.object({ account: Account, order_id: z.string().min(1).max(256), by: By, request_id: RequestId }).strict(),
  'ctl.positions.close': z.object({ account: Account, symbol: z.string().regex(new RegExp(SYMBOL_PATTERN), 'a symbol'), by: By, request_id: RequestId }).strict(),
  'ctl.risk.get': z.object({ account: Account }).strict(),
  'ctl.risk.set': z.object({ account: Account, by: By, risk: RiskPatch, request_id: RequestId }).strict(),
  'ctl.risk.halt': z.object({ account: Account, by: By, reason: z.string().min(1).max(150), request_id: RequestId }).strict(),
  'ctl.risk.resume': z.object({ account: Account, by: By, request_id: RequestId }).strict(),
  'ctl.ideas.pending': z.object({ account: Account }).strict(),
  'ctl.ideas.approve': z.object({ account: Account, id: IdeaId, by: By, request_id: RequestId }).strict(),
  'ctl.ideas.reject': z.object({ account: Account, id: IdeaId, by: By, reason: z.string().min(1).max(150).default('rejected by a person'), request_id: RequestId }).strict(),
  'ctl.strategies.list': z.object({ account: Account }).strict(),
  'ctl.strategies.enable': z.object({ account: Account, id: z.string().min(1).max(64), by: By, request_id: RequestId }).strict(),
  'ctl.strategies.disable': z.object({ account: Account, id: z.string().min(1).max(64), by: By, request_id: RequestId }).strict(),
} as const
export type ControlSubject = keyof typeof requests
type Body<S extends ControlSubject> = z.infer<(typeof requests)[S]>

type Reply = { ok: true } & Record<string, unknown> | { ok: false; error: string }

export interface Control {
  stop(): void
}

export interface ControlOptions {
  nc: NatsConnection
  js: JetStreamClient
  codec: Codec
  log: Logger
  config: ConfigFile | undefined
  actors: readonly ActorName[]
  partitions: number
  /** The runtime's live scope states (Io.states). */
  states: Map<string, () => unknown>
}

/** Subscribes the ctl.* subjects of the actors this process runs. */
/** Which actor answers each control subject (for `nats micro info`). */
export const CONTROL_OWNERS: Record<ControlSubject, ActorName> = {
  'ctl.portfolio.get': 'paper-executor', 'ctl.orders.cancel': 'paper-executor', 'ctl.positions.close': 'paper-executor',
  'ctl.risk.get': 'risk-gate', 'ctl.risk.set': 'risk-gate', 'ctl.risk.halt': 'risk-gate', 'ctl.risk.resume': 'risk-gate',
  'ctl.ideas.pending': 'risk-gate', 'ctl.ideas.approve': 'risk-gate', 'ctl.ideas.reject': 'risk-gate',
  'ctl.strategies.list': 'risk-gate', 'ctl.strategies.enable': 'risk-gate', 'ctl.strategies.disable': 'risk-gate',
}

export function startControl(o: ControlOptions): Control & { published(out: readonly Encoded[]): void; endpoints: Map<ControlSubject, MicroEndpoint> } {
  const waiting = new Map<string, (status: Message<'trade.command_status'>) => void>()
  const endpoints = new Map<ControlSubject, MicroEndpoint>()
  const subs: Subscription[] = []
  const accounts = new Set(o.config?.accounts.map((a) => a.id) ?? [])
  const log = o.log.child({ component: 'control' })

  const handlers: Partial<Record<ControlSubject, (body: never) => Promise<Reply>>> = {}
  const on = <S extends ControlSubject>(subject: S, fn: (body: Body<S>) => Promise<Reply>) => (handlers[subject] = fn as (body: never) => Promise<Reply>)
  if (o.actors.includes('paper-executor')) {
    on('ctl.portfolio.get', async (b) => {
      const state = stateOf<ExecutorState>('paper-executor', b.account)
      return typeof state === 'string' ? fail(state) : portfolioReply(b.account, state)
    })
    on('ctl.orders.cancel', (b) => command('paper-executor', b.account, 'cancel_order', b.by, b.request_id, { order_id: b.order_id }))
    on('ctl.positions.close', (b) => command('paper-executor', b.account, 'close_position', b.by, b.request_id, { symbol: b.symbol }))
  }
  if (o.actors.includes('risk-gate')) {
    on('ctl.risk.get', async (b) => {
      const state = stateOf<RiskState>('risk-gate', b.account)
      return typeof state === 'string' ? fail(state) : { ok: true, account: b.account, ...riskView(state) }
    })
    on('ctl.risk.set', (b) => command('risk-gate', b.account, 'risk_set', b.by, b.request_id, { risk: b.risk as Record<string, number | boolean | null> }))
    on('ctl.risk.halt', (b) => command('risk-gate', b.account, 'risk_halt', b.by, b.request_id, { reason: b.reason }))
    on('ctl.risk.resume', (b) => command('risk-gate', b.account, 'risk_resume', b.by, b.request_id, {}))
    on('ctl.ideas.pending', async (b) => {
      const state = stateOf<RiskState>('risk-gate', b.account)
      return typeof state === 'string' ? fail(state) : { ok: true, account: b.account, ideas: pendingView(state, o.config!.accounts.find((a) => a.id === b.account)!) }
    })
    on('ctl.ideas.approve', (b) => command('risk-gate', b.account, 'idea_approve', b.by, b.request_id, { idea_id: b.id }))
    on('ctl.ideas.reject', (b) => command('risk-gate', b.account, 'idea_reject', b.by, b.request_id, { idea_id: b.id, reason: b.reason }))
    on('ctl.strategies.list', async (b) => {
      const state = stateOf<RiskState>('risk-gate', b.account)
      const ids = (o.config?.strategies ?? []).filter((s) => s.account === b.account).map((s) => s.id)
      return typeof state === 'string' ? fail(state) : { ok: true, account: b.account, strategies: strategiesView(state, ids) }
    })
    on('ctl.strategies.enable', (b) => command('risk-gate', b.account, 'strategy_enable', b.by, b.request_id, { strategy_id: b.id }))
    on('ctl.strategies.disable', (b) => command('risk-gate', b.account, 'strategy_disable', b.by, b.request_id, { strategy_id: b.id }))
  }

  /** A running scope's state, or why there is none to read. */
  function stateOf<S>(actor: ActorName, account: string): S | string {
    const read = o.states.get(`${actor}.${account}`)
    return read ? (read() as S) : `account ${account} is still rebuilding its state; try again`
  }

  type Target = Partial<Pick<Message<'trade.command'>, 'order_id' | 'symbol' | 'idea_id' | 'strategy_id' | 'reason' | 'risk'>>
  async function command(actor: ActorName, account: string, verb: (typeof COMMANDS)[number], by: string, requestId: string | undefined, target: Target): Promise<Reply> {
    if (!o.states.has(`${actor}.${account}`)) return fail(`account ${account} is still rebuilding its state; try again`)
    const id = `cmd:${verb}:${account}:${requestId ?? randomUUID()}`
    // The command is an input from outside, like a bar from a feed: it carries the time it was made.
    const data: Message<'trade.command'> = {
      id, type: 'trade.command', ts: new Date().toISOString(), causation_id: id, correlation_id: id, account, command: verb,
      order_id: target.order_id ?? null, symbol: target.symbol ?? null, idea_id: target.idea_id ?? null, strategy_id: target.strategy_id ?? null, reason: target.reason ?? null, risk: target.risk ?? null,
      requested_by: by,
    }
    o.codec.check('trade.command', data)
    const answered = new Promise<Message<'trade.command_status'> | null>((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id)
        resolve(null)
      }, COMMAND_REPLY_MS)
      waiting.set(id, (status) => {
        clearTimeout(timer)
        waiting.delete(id)
        resolve(status)
      })
    })
    await o.js.publish(subjectOf('trade.command', data, o.partitions), JSON.stringify(data), { msgID: id })
    log.info({ account, command: verb, by, id, ...target }, 'operator command')
    const status = await answered
    if (!status) return fail(`no answer from the ${actor} within ${COMMAND_REPLY_MS / 1000} s; the command ${id} is stored and applies when it is handled`)
    return status.ok ? { ok: true, command_id: id, ...(status.order_id ? { order_id: status.order_id } : {}), ...status.detail } : fail(status.error ?? 'refused')
  }

  async function answer(subject: ControlSubject, m: Msg): Promise<void> {
    const ep = endpoints.get(subject)!
    const t0 = process.hrtime.bigint()
    ep.num_requests++
    const reply = await replyTo(subject, m)
    ep.processing_time += Number(process.hrtime.bigint() - t0)
    if (!reply.ok) {
      ep.num_errors++
      ep.last_error = reply.error
    }
    respond(m, reply)
  }

  /** The reply to one request. */
  async function replyTo(subject: ControlSubject, m: Msg): Promise<Reply> {
    let body: unknown
    try {
      body = m.data.length ? JSON.parse(m.string()) : {}
    } catch (err) {
      return fail(`request is not JSON: ${(err as Error).message}`)
    }
    const parsed = requests[subject].safeParse(body)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      return fail(`${issue.path.length ? issue.path.join('.') : 'request'}: ${issue.message}`)
    }
    const account = (parsed.data as { account: string }).account
    if (!accounts.has(account)) return fail(`unknown account "${account}"`)
    try {
      return await handlers[subject]!(parsed.data as never)
    } catch (err) {
      log.error({ err, subject }, 'control request failed')
      return fail((err as Error).message)
    }
  }

  // Approvals also expire in wall time (a person's clock): the gate keeps no clock, so this process,
  // which runs it, notes when each idea started waiting and sends an idea_expire command into the
  // account's stream once approval_timeout_minutes have passed. After a restart the wait starts
  // again from when this process first sees the idea (never shorter).
  const waitingSince = new Map<string, number>()
  const expiring = new Set<string>()
  const expiryTimer = o.actors.includes('risk-gate')
    ? setInterval(() => {
        const now = Date.now()
        const stillWaiting = new Set<string>()
        for (const account of accounts) {
          const read = o.states.get(`risk-gate.${account}`)
          if (!read) continue
          const state = read() as RiskState
          const timeout = (state.risk?.approval_timeout_minutes ?? 1440) * 60_000
          for (const id of Object.keys(state.approvals ?? {})) {
            stillWaiting.add(id)
            const since = waitingSince.get(id) ?? (waitingSince.set(id, now), now)
            if (now - since < timeout || expiring.has(id)) continue
            expiring.add(id)
            void command('risk-gate', account, 'idea_expire', 'system', `expire-${id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(-50)}`, { idea_id: id }).finally(() => {
              expiring.delete(id)
              waitingSince.delete(id)
            })
          }
        }
        for (const id of waitingSince.keys()) if (!stillWaiting.has(id)) waitingSince.delete(id)
      }, EXPIRY_CHECK_MS)
    : null
  expiryTimer?.unref()

  for (const subject of Object.keys(handlers) as ControlSubject[]) {
    endpoints.set(subject, { name: subject.slice(4).replace('.', '_'), subject, num_requests: 0, num_errors: 0, last_error: '', processing_time: 0 })
    const sub = o.nc.subscribe(subject, { callback: (err, m) => (err ? log.warn({ err: err.message, subject }, 'control subscription') : void answer(subject, m)) })
    subs.push(sub)
  }

  return {
    endpoints,
    published(out) {
      if (!waiting.size) return
      for (const e of out) {
        if (e.type !== 'trade.command_status') continue
        const status = JSON.parse(new TextDecoder().decode(e.payload)) as Message<'trade.command_status'>
        waiting.get(status.command_id)?.(status)
      }
    },
    stop() {
      if (expiryTimer) clearInterval(expiryTimer)
      for (const s of subs) s.unsubscribe()
    },
  }
}

const fail = (error: string): Reply => ({ ok: false, error })

function respond(m: Msg, reply: Reply): void {
  if (m.reply) m.respond(JSON.stringify(reply))
}

/** ctl.portfolio.get: the books as the executor holds them now, valued at its latest marks. */
export function portfolioReply(account: string, s: ExecutorState): Reply {
  const b = s.books
  const v = valuation(b)
  const positions = Object.entries(b.positions).map(([symbol, p]) => {
    const mark = b.marks[symbol]
    return {
      symbol,
      side: p.qty > 0 ? 'long' : 'short',
      qty: Math.abs(p.qty),
      avg_price: p.avg_price,
      mark: mark?.price ?? null,
      marked_at: mark?.ts ?? null,
      unrealized_pnl: ((mark?.price ?? p.avg_price) - p.avg_price) * p.qty,
      realized_pnl: p.realized_pnl,
      opened_at: p.opened_at,
      stop_price: p.stop ?? null,
      target_price: p.target ?? null,
    }
  })
  const orders = [...Object.values(s.working).flat(), ...(s.deferred ?? []).map((d) => d.order)]
  const working_orders = orders.map((w) => ({
    order_id: w.id,
    symbol: w.symbol,
    side: w.side,
    intent: w.intent,
    qty: w.close_position ? Math.abs(b.positions[w.symbol]?.qty ?? w.qty) : w.qty,
    order_type: w.order_type,
    exit_reason: w.exit_reason,
    signal_ts: w.ts,
  }))
  return {
    ok: true,
    account,
    cash: b.cash,
    equity: v.equity,
    realized_pnl: b.realized_pnl,
    unrealized_pnl: v.unrealized,
    peak_equity: Math.max(b.peak_equity, v.equity),
    drawdown: Math.max(b.peak_equity, v.equity) - v.equity,
    daily_pnl: v.equity - (b.day_start_equity ?? b.starting_cash),
    trade_count: b.trade_count,
    winning_trades: b.winning_trades,
    positions,
    working_orders,
  }
}
