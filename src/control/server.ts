// The operator control plane over NATS request/reply (SPEC §5.3, §5.4): JSON on plain `ctl.*`
// subjects, the account in the body, so an operator types one subject whatever the deployment.
// The requests are defined in control-requests.ts; control-routing.ts brings each to the one process
// running its account; this file answers it there.
//
// Reads answer from the running scope's state. Commands that change an account are never applied
// here: they are written into the account's stream (trade.command.<ACCT>) so the owning actor applies
// them in order with everything else, and survive restarts and replays like any input; the reply waits
// for the actor's trade.command_status, which this process sees because it runs the actor.
import { randomUUID } from 'node:crypto'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { valuation } from '../../actors/lib/books.js'
import type { ExecutorState } from '../../actors/paper-executor.js'
import type { RiskState } from '../../actors/risk-gate/state.js'
import { pendingView, riskView, strategiesView } from '../../actors/risk-gate/views.js'
import type { ActorName } from '../core/actor.js'
import type { Codec, Encoded } from '../runtime/codec.js'
import type { ConfigFile } from '../core/config-file.js'
import { riskSettingsText } from '../core/config-file/accounts.js'
import type { Message } from '../core/contracts.js'
import type { COMMANDS } from '../core/schemas.js'
import { subjectOf } from '../core/subjects.js'
import { fnv1a32 } from '../core/partition.js'
import { fail, type ControlBody, type ControlReply, type ControlSubject } from './requests.js'
import { routeControl, type ControlHandler } from './routing.js'
import type { LiveStates } from './live-states.js'
import type { Logger } from '../telemetry/log.js'
import type { MicroEndpoint } from './micro.js'
import { validateRuntimeStrategy, type RuntimeStrategy } from '../core/runtime-strategies.js'
import type { StrategyRegistry } from '../runtime/strategy-registry.js'

/** How long a command request waits for the actor to apply it. */
const COMMAND_REPLY_MS = 10_000
/** How often pending approvals are checked against their wall-time timeout. */
const EXPIRY_CHECK_MS = 1_000

interface Control {
  stop(): void
}

interface ControlOptions {
  nc: NatsConnection
  js: JetStreamClient
  /** Reads the symbol's last bar when a close is asked for. */
  jsm: JetStreamManager
  codec: Codec
  log: Logger
  config: ConfigFile | undefined
  actors: readonly ActorName[]
  partitions: number
  /** The runtime's live scope states (Io.states): this process owns an account while its state is there. */
  states: LiveStates
  /** The strategies defined at runtime (written here, for the accounts this process runs). */
  registry?: StrategyRegistry
}

/** Answers the ctl.* subjects of the actors this process runs, for the accounts it runs. */
export function startControl(o: ControlOptions): Control & {
  published(out: readonly Encoded[]): void
  endpoints: Map<ControlSubject, MicroEndpoint>
  /** Resolves once NATS knows this process owns the accounts whose scopes are live. */
  flush(): Promise<void>
} {
  const waiting = new Map<string, (status: Message<'trade.command_status'>) => void>()
  const log = o.log.child({ component: 'control' })

  const handlers: Partial<Record<ControlSubject, ControlHandler>> = {}
  const on = <S extends ControlSubject>(subject: S, fn: (body: ControlBody<S>) => Promise<ControlReply>) => (handlers[subject] = fn as ControlHandler)
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
      return typeof state === 'string'
        ? fail(state)
        : { ok: true, account: b.account, ideas: pendingView(state, o.config!.accounts.find((a) => a.id === b.account)!) }
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
    on('ctl.strategies.put', (b) => oneAtATime(() => putStrategy(b.strategy, b.by, b.request_id)))
    on('ctl.strategies.delete', (b) => oneAtATime(() => deleteStrategy(b.account, b.id, b.by, b.request_id)))
  }

  // Versions of runtime strategies are numbered here, one request after another: this process runs
  // the account, so no other writes a version of its strategies meanwhile.
  let queue: Promise<unknown> = Promise.resolve()
  function oneAtATime(fn: () => Promise<ControlReply>): Promise<ControlReply> {
    const next = queue.then(fn, fn)
    queue = next.catch(() => undefined)
    return next
  }

  /**
   * ctl.strategies.put: checked as the config file is, then taken by the account's gate (its
   * watchlist, the strategies table), then written to the registry, which the indicators and
   * strategy scopes follow: from the next bar of its symbols it trades. Putting the same definition
   * again changes nothing.
   */
  async function putStrategy(raw: Record<string, unknown>, by: string, requestId: string | undefined): Promise<ControlReply> {
    const registry = o.registry
    if (!registry || !o.config) return fail('this process keeps no strategy registry')
    const runtime = registry.current()
    const others = runtime.flatMap((d) => (d.strategy ? [d.strategy] : []))
    const checked = validateRuntimeStrategy(raw, o.config, others)
    if (!checked.ok) return fail(checked.error)
    const strategy = checked.strategy
    const before = runtime.find((d) => d.id === strategy.id)
    if (before?.strategy && before.account !== strategy.account)
      return fail(`strategy.account: strategy ${strategy.id} trades for account ${before.account}; delete it there first`)
    const same = before?.strategy && JSON.stringify(before.strategy) === JSON.stringify(strategy)
    const version = same ? before.version : (before?.version ?? 0) + 1
    return define({ id: strategy.id, version, account: strategy.account, strategy, by, at: new Date().toISOString() }, requestId)
  }

  async function deleteStrategy(account: string, id: string, by: string, requestId: string | undefined): Promise<ControlReply> {
    const registry = o.registry
    if (!registry) return fail('this process keeps no strategy registry')
    const before = registry.current().find((d) => d.id === id)
    if (o.config?.strategies.some((s) => s.id === id)) return fail(`strategy ${id} is defined in the config file; remove it there`)
    if (!before?.strategy || before.account !== account) return fail(`no runtime strategy "${id}" on account ${account}`)
    return define({ id, version: before.version + 1, account, strategy: null, by, at: new Date().toISOString() }, requestId)
  }

  /** The gate takes the version first (so no idea of it ever reaches the gate before it), then the registry holds it. */
  async function define(def: RuntimeStrategy, requestId: string | undefined): Promise<ControlReply> {
    const verb = def.strategy ? 'strategy_put' : 'strategy_delete'
    const taken = await command('risk-gate', def.account, verb, def.by, requestId, {
      strategy_id: def.id,
      strategy: def.strategy as Record<string, unknown> | null,
      version: def.version,
    })
    if (!taken.ok) return taken
    if (!(await o.registry!.write(def)))
      return fail(`version ${def.version} of strategy ${def.id} was written meanwhile by another request; list the strategies and try again`)
    log.info({ strategy: def.id, version: def.version, account: def.account, by: def.by, deleted: def.strategy === null }, 'runtime strategy defined')
    return { ok: true, account: def.account, strategy: def.id, version: def.version, ...(def.strategy ? {} : { deleted: true }) }
  }

  /** A running scope's state, or why there is none to read. */
  function stateOf<S>(actor: ActorName, account: string): S | string {
    const read = o.states.get(`${actor}.${account}`)
    return read ? (read() as S) : `account ${account} is still rebuilding its state; try again`
  }

  type Target = Partial<Pick<Message<'trade.command'>, 'order_id' | 'symbol' | 'idea_id' | 'strategy_id' | 'reason' | 'risk' | 'strategy' | 'version'>>
  async function command(
    actor: ActorName,
    account: string,
    verb: (typeof COMMANDS)[number],
    by: string,
    requestId: string | undefined,
    target: Target,
  ): Promise<ControlReply> {
    if (!o.states.has(`${actor}.${account}`)) return fail(`account ${account} is still rebuilding its state; try again`)
    const id = `cmd:${verb}:${account}:${requestId ?? randomUUID()}`
    // The command is an input from outside, like a bar from a feed: it carries the time it was made,
    // and a close the market position it was asked at (the symbol's last bar): it fills on the bar after.
    const lastBar =
      verb === 'close_position' ? await o.jsm.streams.getMessage('MD', { last_by_subj: subjectOf('md.bar', { symbol: target.symbol }, o.partitions) }) : null
    const data: Message<'trade.command'> = {
      id,
      type: 'trade.command',
      ts: new Date().toISOString(),
      causation_id: id,
      correlation_id: id,
      account,
      command: verb,
      order_id: target.order_id ?? null,
      symbol: target.symbol ?? null,
      idea_id: target.idea_id ?? null,
      strategy_id: target.strategy_id ?? null,
      reason: target.reason ?? null,
      risk: target.risk ?? null,
      ...(target.version !== undefined ? { strategy: target.strategy ?? null, version: target.version } : {}),
      ...(verb === 'close_position' ? { bar_seq: lastBar?.seq ?? 0 } : {}),
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
    return status.ok
      ? { ok: true, command_id: id, ...(status.order_id ? { order_id: status.order_id } : {}), ...status.detail }
      : fail(status.error ?? 'refused')
  }

  // Approvals also expire in wall time (a person's clock): the gate keeps no clock, so the process
  // running the account's scope — only it has the state — notes when each idea started waiting and
  // sends an idea_expire command into the account's stream once approval_timeout_minutes have
  // passed. After a restart (or a move to another process) the wait starts again from when this
  // process first sees the idea (never shorter).
  const waitingSince = new Map<string, number>()
  const expiring = new Set<string>()
  const expiryTimer = o.actors.includes('risk-gate')
    ? setInterval(() => {
        const now = Date.now()
        const stillWaiting = new Set<string>()
        for (const [key, read] of o.states) {
          if (!key.startsWith('risk-gate.')) continue
          const account = key.slice('risk-gate.'.length)
          const state = read() as RiskState
          const timeout = (state.risk?.approval_timeout_minutes ?? 1440) * 60_000
          for (const id of Object.keys(state.approvals ?? {})) {
            stillWaiting.add(id)
            const since = waitingSince.get(id) ?? (waitingSince.set(id, now), now)
            if (now - since < timeout || expiring.has(id)) continue
            expiring.add(id)
            void command('risk-gate', account, 'idea_expire', 'system', `expire-${id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(-50)}`, { idea_id: id }).finally(
              () => {
                expiring.delete(id)
                waitingSince.delete(id)
              },
            )
          }
        }
        for (const id of waitingSince.keys()) if (!stillWaiting.has(id)) waitingSince.delete(id)
      }, EXPIRY_CHECK_MS)
    : null
  expiryTimer?.unref()

  const routing = routeControl({
    nc: o.nc,
    log: o.log,
    handlers,
    states: o.states,
    accounts: o.config?.accounts.map((a) => a.id) ?? [],
    // The owner answers a command within COMMAND_REPLY_MS; the front door waits a little longer for that answer.
    forwardTimeoutMs: COMMAND_REPLY_MS + 2_000,
  })

  return {
    endpoints: routing.endpoints,
    flush: routing.flush,
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
      routing.stop()
    },
  }
}

/** ctl.portfolio.get: the books as the executor holds them now, valued at its latest marks. */
function portfolioReply(account: string, s: ExecutorState): ControlReply {
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

/**
 * Tells the risk gate of every account what the config file says its risk settings are (a
 * risk_config command): on the first start each account gets its risk_config row, and a file edited
 * since wins over runtime changes (README, Which risk settings apply). Every process running the gate
 * sends the same message ids for the same file, so the stream keeps one.
 */
export async function announceRiskConfig(o: Pick<ControlOptions, 'js' | 'codec' | 'partitions' | 'log'>, config: ConfigFile): Promise<void> {
  for (const account of config.accounts) {
    const risk = account.risk as unknown as Record<string, number | boolean | null>
    const id = `cmd:risk_config:${account.id}:${fnv1a32(riskSettingsText(risk)).toString(16)}`
    const data: Message<'trade.command'> = {
      id,
      type: 'trade.command',
      ts: new Date().toISOString(),
      causation_id: id,
      correlation_id: id,
      account: account.id,
      command: 'risk_config',
      order_id: null,
      symbol: null,
      idea_id: null,
      strategy_id: null,
      reason: null,
      risk,
      requested_by: 'config',
    }
    o.codec.check('trade.command', data)
    await o.js.publish(subjectOf('trade.command', data, o.partitions), JSON.stringify(data), { msgID: id })
  }
  o.log.debug({ accounts: config.accounts.length }, 'risk settings of the config file announced to the risk gate')
}
