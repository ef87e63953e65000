// `paperd status`: what is running and how far behind it is, asked over NATS like an operator would —
// every actor instance from the micro protocol ($SRV.STATS, with its scopes live), the lag of every
// paperd durable from JetStream (other consumers — the ephemeral ones a killed process leaves for
// minutes, anyone else's — are only counted: their backlog is not paperd's lag), each account's halt
// state and books from the control plane, and the gaps `replay --wait` would wait on (actors with no
// instance, scopes not live, durables missing).
import type { JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { ControlSubject } from './requests.js'
import { STREAMS, type StreamName } from '../core/contracts.js'
import { askInstances } from './micro.js'
import { actorOf, describeWaiting, stillToDo, type Backlog, type Expectation } from './quiesce.js'
import { bucketKeys, LEASE_BUCKET } from '../runtime/leases.js'
import { isPaperdDurable, pendingOf } from '../runtime/topology.js'
import { Kvm } from '@nats-io/kv'
import { CHECKPOINT_BUCKET, decodeCheckpoint } from '../runtime/checkpoints.js'
import { barsBetween, lastCompleteBar } from '../core/market-calendar.js'

interface StatusReport {
  instances: {
    actor: string
    id: string
    version: string
    scopes: string
    host: string
    pid: string
    scopes_live: number | null
    scopes_total: number | null
  }[]
  consumers: { stream: string; name: string; pending: number; ack_pending: number; redelivered: number }[]
  /** Consumers on paperd's streams that are not paperd durables (ephemeral, someone else's): not lag. */
  other_consumers: number
  accounts: {
    account: string
    halted: boolean | null
    last_halt_reason: string | null
    cash: number | null
    equity: number | null
    positions: number | null
    working_orders: number | null
    error?: string
  }[]
  /** Work nobody is doing, as `replay --wait` sees it: actors with no instance, scopes not live, durables missing. */
  gaps: string[]
  /** Every series a feed publishes: its last bar, and how many bars the market calendar says it lacks. */
  feeds: { feed: string; provider: string; symbol: string; timeframe: string | null; last: string | null; behind: number | null }[]
  /** Every scope lease: who holds it, since when, and how long ago it was last renewed (ms). */
  leases: { actor: string; scope: string; owner: string; held_ms: number; renewed_ms: number; token: number }[]
}

/** "p0,p1,…,p7,… (16)": the first eight and the count. */
const abbreviated = (keys: string[]) => (keys.length > 8 ? `${keys.slice(0, 8).join(',')},… (${keys.length})` : keys.join(','))

/** `expected`: the deployment's work (quiesce.ts expectedWork), to name what is not running. */
export async function statusReport(nc: NatsConnection, jsm: JetStreamManager, expected: Expectation, opts: { waitMs?: number } = {}): Promise<StatusReport> {
  const running = await askInstances(nc, { maxWaitMs: opts.waitMs ?? 750 })
  const instances = running
    .map((i) => ({
      actor: i.actor,
      id: i.id,
      version: i.version,
      scopes: abbreviated(i.scopes?.owned ?? []),
      host: i.metadata.host ?? '',
      pid: i.metadata.pid ?? '',
      scopes_live: i.scopes?.live.length ?? null,
      scopes_total: i.scopes?.owned.length ?? null,
    }))
    .sort((a, b) => a.actor.localeCompare(b.actor) || a.id.localeCompare(b.id))

  const consumers: StatusReport['consumers'] = []
  let others = 0
  for (const stream of Object.keys(STREAMS)) {
    try {
      const last = (await jsm.streams.info(stream)).state.last_seq
      for await (const c of jsm.consumers.list(stream)) {
        if (!isPaperdDurable(c)) others++
        else consumers.push({ stream, name: c.name, pending: pendingOf(c, last), ack_pending: c.num_ack_pending, redelivered: c.num_redelivered })
      }
    } catch {
      // stream not created yet
    }
  }
  consumers.sort((a, b) => a.stream.localeCompare(b.stream) || a.name.localeCompare(b.name))
  const ours = consumers.filter((c) => actorOf(c.name))
  const present: Backlog = { total: 0, lagging: {}, streams: {}, durables: Object.fromEntries(ours.map((c) => [c.name, c.stream as StreamName])) }
  const gaps = stillToDo(expected, present, running).map((w) => describeWaiting([w]))

  // Accounts: one risk-gate durable per account, `risk-gate-<account>`.
  const accountIds = [...new Set(consumers.filter((c) => c.name.startsWith('risk-gate-')).map((c) => c.name.slice('risk-gate-'.length)))].sort()
  const ask = async (subject: ControlSubject, account: string) => {
    try {
      return (await nc.request(subject, JSON.stringify({ account }), { timeout: 2000 })).json<Record<string, unknown>>()
    } catch (err) {
      return { ok: false, error: (err as Error).message }
    }
  }
  const accounts = await Promise.all(
    accountIds.map(async (account) => {
      const [risk, books] = await Promise.all([ask('ctl.risk.get', account), ask('ctl.portfolio.get', account)])
      return {
        account,
        halted: risk.ok ? (risk.halted as boolean) : null,
        last_halt_reason: risk.ok ? ((risk.last_halt_reason as string | null) ?? null) : null,
        cash: books.ok ? (books.cash as number) : null,
        equity: books.ok ? (books.equity as number) : null,
        positions: books.ok ? (books.positions as unknown[]).length : null,
        working_orders: books.ok ? (books.working_orders as unknown[]).length : null,
        ...(!risk.ok || !books.ok ? { error: String((!risk.ok ? risk.error : books.error) ?? 'no answer') } : {}),
      }
    }),
  )
  return { instances, consumers, other_consumers: others, accounts, gaps, feeds: await feedsOf(nc, jsm), leases: await leasesOf(nc, jsm) }
}

/** The feeds' progress, from their checkpoints (`feeds.<feed>` in paperd_state; src/app/feeds.ts). */
async function feedsOf(nc: NatsConnection, jsm: JetStreamManager): Promise<StatusReport['feeds']> {
  const out: StatusReport['feeds'] = []
  try {
    const kv = await new Kvm(nc).open(CHECKPOINT_BUCKET)
    const now = Date.now()
    for (const key of await bucketKeys(jsm, CHECKPOINT_BUCKET, 'feeds.*')) {
      const e = await kv.get(key)
      if (e?.operation !== 'PUT' || e.length === 0) continue
      const p = decodeCheckpoint(e.value).state as {
        provider: string
        timeframe: string | null
        settle_ms?: number
        bars: Record<string, string>
        context?: Record<string, { date: string }>
      }
      const feed = key.slice('feeds.'.length)
      if (p.timeframe) {
        const latest = lastCompleteBar(p.timeframe, now, p.settle_ms ?? 0)
        for (const [symbol, last] of Object.entries(p.bars))
          out.push({ feed, provider: p.provider, symbol, timeframe: p.timeframe, last, behind: barsBetween(p.timeframe, last, latest) })
      } else
        for (const [symbol, c] of Object.entries(p.context ?? {})) out.push({ feed, provider: p.provider, symbol, timeframe: null, last: c.date, behind: null })
    }
  } catch {
    // no checkpoint bucket yet
  }
  return out.sort((a, b) => a.feed.localeCompare(b.feed) || a.symbol.localeCompare(b.symbol))
}

/** The lease bucket's scope entries (none before any instance ran a leased actor). */
async function leasesOf(nc: NatsConnection, jsm: JetStreamManager): Promise<StatusReport['leases']> {
  const out: StatusReport['leases'] = []
  try {
    const kv = await new Kvm(nc).open(LEASE_BUCKET)
    const keys = await bucketKeys(jsm, LEASE_BUCKET, 'scope.>')
    const now = Date.now()
    for (const key of keys) {
      const e = await kv.get(key)
      if (e?.operation !== 'PUT') continue
      const [, actor, ...rest] = key.split('.')
      const v = e.json<{ instance: string; since: number }>()
      out.push({
        actor: actor!,
        scope: rest.join('.'),
        owner: v.instance,
        held_ms: Math.max(0, now - v.since),
        renewed_ms: Math.max(0, now - e.created.getTime()),
        token: e.revision,
      })
    }
  } catch {
    // no lease bucket yet
  }
  return out.sort((a, b) => a.actor.localeCompare(b.actor) || a.scope.localeCompare(b.scope, 'en', { numeric: true }))
}

/** The report as aligned text tables. */
export function formatStatus(r: StatusReport): string {
  const table = (head: string[], rows: (string | number | null | boolean)[][]) => {
    const cells = [head, ...rows.map((row) => row.map((c) => (c === null ? '—' : String(c))))]
    const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
    return cells
      .map((row) =>
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n')
  }
  const money = (x: number | null) => (x === null ? null : x.toFixed(2))
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return [
    `actors (${r.instances.length} instances)`,
    r.instances.length
      ? table(
          ['actor', 'instance', 'version', 'scopes', 'live', 'host', 'pid'],
          r.instances.map((i) => [
            i.actor,
            i.id.slice(0, 8),
            i.version,
            i.scopes,
            i.scopes_live === null ? null : `${i.scopes_live}/${i.scopes_total}`,
            i.host,
            i.pid,
          ]),
        )
      : '  none answered $SRV.INFO',
    '',
    'consumers',
    r.consumers.length
      ? table(
          ['stream', 'durable', 'pending', 'ack pending', 'redelivered'],
          r.consumers.map((c) => [c.stream, c.name, c.pending, c.ack_pending, c.redelivered]),
        )
      : '  none',
    ...(r.other_consumers ? [`(and ${r.other_consumers} consumer(s) not paperd's — ephemeral, or someone else's — whose backlog is not lag)`] : []),
    '',
    'accounts',
    r.accounts.length
      ? table(
          ['account', 'halted', 'reason', 'cash', 'equity', 'positions', 'working'],
          r.accounts.map((a) => [
            a.account,
            a.halted === null ? (a.error ?? null) : a.halted ? 'yes' : 'no',
            a.last_halt_reason,
            money(a.cash),
            money(a.equity),
            a.positions,
            a.working_orders,
          ]),
        )
      : '  none',
    '',
    'feeds',
    r.feeds.length
      ? table(
          ['feed', 'provider', 'symbol', 'timeframe', 'last bar', 'bars behind'],
          r.feeds.map((f) => [f.feed, f.provider, f.symbol, f.timeframe ?? 'context', f.last, f.behind]),
        )
      : '  none',
    '',
    `scope leases (${r.leases.length})`,
    r.leases.length
      ? table(
          ['actor', 'scope', 'owner', 'held', 'renewed'],
          r.leases.map((l) => [l.actor, l.scope, l.owner.slice(0, 8), seconds(l.held_ms), `${seconds(l.renewed_ms)} ago`]),
        )
      : '  none',
    '',
    'gaps',
    r.gaps.length ? r.gaps.map((g) => `  ${g}`).join('\n') : '  none: every actor has a live instance, every scope is live, every durable exists',
  ].join('\n')
}
