// Who answers a control request. Accounts may be split over processes (one config per service), and
// later move between them, so a request must reach the one process running its account — not the
// first process to reply. Each public ctl.* subject is a front door in one queue group: exactly one
// process running the subject's actor takes the request, validates it and forwards it to the
// account's owner subject, which a process subscribes exactly while the account's scope is live
// here. Nobody subscribed (NATS answers "no responders" at once) becomes a clear error naming the
// accounts that do run.
import { errors, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import type { ActorName } from '../core/actor.js'
import {
  CONTROL_OWNERS,
  accountOf,
  CONTROL_QUEUE,
  CONTROL_SUBJECTS,
  controlSubjectOf,
  fail,
  ownerSubject,
  ownerSubscription,
  parseRequest,
  runningSubject,
  type ControlReply,
  type ControlSubject,
  type RunningAccounts,
} from './requests.js'
import type { LiveStates } from './live-states.js'
import type { Logger } from '../telemetry/log.js'
import type { MicroEndpoint } from './micro.js'

/**
 * How long the other processes have to say which accounts they run, when nobody runs the one asked
 * for. A fixed wait keeps the refusal quick; the list is best effort (this process's own accounts,
 * and those of whoever answered in time).
 */
const RUNNING_WAIT_MS = 300

export type ControlHandler = (body: never) => Promise<ControlReply>

interface RoutingOptions {
  nc: NatsConnection
  log: Logger
  /** What this process answers, by subject (the subjects of the actors it runs). */
  handlers: Partial<Record<ControlSubject, ControlHandler>>
  /** The live scope states: a process owns an account while its `<actor>.<account>` state is here. */
  states: LiveStates
  /** The accounts this process runs (live or still rebuilding). */
  accounts: readonly string[]
  /** How long a front door waits for the owner's answer (longer than the owner waits for a command to apply). */
  forwardTimeoutMs: number
}

export interface Routing {
  /** The front doors, for the micro protocol (`nats micro info|stats`). */
  endpoints: Map<ControlSubject, MicroEndpoint>
  /** Resolves once the server has every subscription made so far (the owners of live scopes). */
  flush(): Promise<void>
  stop(): void
}

export function routeControl(o: RoutingOptions): Routing {
  const log = o.log.child({ component: 'control' })
  const subjects = CONTROL_SUBJECTS.filter((s) => o.handlers[s])
  const actors = new Set(subjects.map((s) => CONTROL_OWNERS[s]))
  const endpoints = new Map(
    subjects.map((subject) => [
      subject,
      {
        name: subject.slice('ctl.'.length).replace('.', '_'),
        subject,
        queue_group: CONTROL_QUEUE,
        num_requests: 0,
        num_errors: 0,
        last_error: '',
        processing_time: 0,
      } satisfies MicroEndpoint,
    ]),
  )
  const subs: Subscription[] = []
  const owned = new Map<string, Subscription>()
  let stopped = false

  const subscribe = (subject: string, queue: string | undefined, fn: (m: Msg) => void) =>
    o.nc.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (err, m) =>
        err
          ? log.error({ err: err.message, subject }, 'control subscription failed (does the NATS user have the permissions of ops/nats/nats-server.conf?)')
          : fn(m),
    })

  /** The public subject: validate, then hand the request to the process running the account. */
  async function frontDoor(subject: ControlSubject, m: Msg): Promise<void> {
    const ep = endpoints.get(subject)!
    const t0 = process.hrtime.bigint()
    ep.num_requests++
    const reply = await forward(subject, m)
    ep.processing_time += Number(process.hrtime.bigint() - t0)
    if (!reply.ok) {
      ep.num_errors++
      ep.last_error = reply.error
    }
    respond(m, reply)
  }

  async function forward(subject: ControlSubject, m: Msg): Promise<ControlReply> {
    const request = parseRequest(subject, m.data)
    if (!request.ok) return fail(request.error)
    const actor = CONTROL_OWNERS[subject]
    const account = accountOf(request.body)
    try {
      return (await o.nc.request(ownerSubject(actor, account, subject), m.data, { timeout: o.forwardTimeoutMs })).json<ControlReply>()
    } catch (err) {
      if (err instanceof errors.RequestError && err.isNoResponders()) return nobodyRuns(actor, account)
      if (err instanceof errors.TimeoutError)
        return fail(`no answer from the process running account "${account}" (its ${actor}) within ${o.forwardTimeoutMs / 1000} s`)
      log.warn({ err: (err as Error).message, subject, account }, 'control request not forwarded')
      return fail(`could not reach the process running account "${account}" (its ${actor}): ${(err as Error).message}`)
    }
  }

  /** Why no process took a request for `account`: still starting somewhere, or run by none. */
  async function nobodyRuns(actor: ActorName, account: string): Promise<ControlReply> {
    const here = runningHere(actor)
    const running = new Set(here.running)
    const starting = new Set(here.starting)
    try {
      for await (const m of await o.nc.requestMany(runningSubject(actor), '', { strategy: 'timer', maxWait: RUNNING_WAIT_MS })) {
        const there = m.json<RunningAccounts>()
        for (const a of there.running) running.add(a)
        for (const a of there.starting) starting.add(a)
      }
    } catch (err) {
      log.warn({ err: (err as Error).message, actor }, 'could not ask which accounts run')
    }
    if (starting.has(account)) return fail(`account ${account} is still rebuilding its state; try again`)
    if (running.has(account)) return fail(`account ${account} has just started; try again`)
    return fail(
      `no process runs account "${account}" (its ${actor}): is it started with the account in its config? Accounts running: ${[...running].sort().join(', ') || 'none'}`,
    )
  }

  /** The owner subject: only this process runs the account, so it answers from its own state. */
  async function own(m: Msg): Promise<void> {
    const target = controlSubjectOf(m.subject)
    const handler = target && o.handlers[target.subject]
    if (!target || !handler) return respond(m, fail(`${m.subject} is no control request`))
    const request = parseRequest(target.subject, m.data)
    if (!request.ok) return respond(m, fail(request.error))
    if (accountOf(request.body) !== target.account) return respond(m, fail(`a request for account "${accountOf(request.body)}" sent to ${m.subject}`))
    try {
      respond(m, await handler(request.body as never))
    } catch (err) {
      log.error({ err, subject: target.subject }, 'control request failed')
      respond(m, fail((err as Error).message))
    }
  }

  function runningHere(actor: ActorName): RunningAccounts {
    const running = [...o.states.keys()].filter((k) => k.startsWith(`${actor}.`)).map((k) => k.slice(actor.length + 1))
    return { running, starting: o.accounts.filter((a) => !running.includes(a)) }
  }

  /** Ownership follows the scope: subscribed when its state goes live here, withdrawn when it stops. */
  function follow(key: string, live: boolean): void {
    const dot = key.indexOf('.')
    const actor = key.slice(0, dot) as ActorName
    if (stopped || !actors.has(actor)) return
    // In the queue group too: should two processes ever run one account (a misconfiguration, or a
    // scope moving between processes), a command is still applied once.
    if (live && !owned.has(key))
      owned.set(
        key,
        subscribe(ownerSubscription(actor, key.slice(dot + 1)), CONTROL_QUEUE, (m) => void own(m)),
      )
    if (!live) {
      owned.get(key)?.unsubscribe()
      owned.delete(key)
    }
  }

  for (const subject of subjects) subs.push(subscribe(subject, CONTROL_QUEUE, (m) => void frontDoor(subject, m)))
  for (const actor of actors) subs.push(subscribe(runningSubject(actor), undefined, (m) => m.respond(JSON.stringify(runningHere(actor)))))
  const unwatch = o.states.watch(follow)
  for (const key of o.states.keys()) follow(key, true)

  return {
    endpoints,
    flush: () => o.nc.flush(),
    stop() {
      stopped = true
      unwatch()
      for (const s of [...subs, ...owned.values()]) s.unsubscribe()
      owned.clear()
    },
  }
}

function respond(m: Msg, reply: ControlReply): void {
  if (m.reply) m.respond(JSON.stringify(reply))
}
