// `npm run chaos [-- --symbols K] [--bars N] [--kills N] [--seed N] [--lease-ttl MS]`: three identical
// `paperd start` processes (every actor, same config) share the work by leases while the daily bars
// of K symbols (two accounts each) are replayed. In each stretch of the replay a random process is
// SIGKILLed and restarted; once one is frozen (SIGSTOP) for longer than a lease lives and resumed;
// once the nats-server itself restarts. When everything is processed, each scope must have exactly
// one owner, and every table must equal — row for row — what one uninterrupted process makes of the
// same bars on a fresh server and database. It prints what it did and exits 1 on any difference.
// Minutes long, so it is not part of `npm test` (test/integration/scale-out.test.ts is the short
// version: three series, kills and a freeze, fills and cash against the backtest and the reference).
//
// Compared: every column of every table, except what is not a fact of the trading: clock columns
// the database fills (recorded_at, updated_at: `default now()`), and stream positions (stream_seq,
// consumer_offsets, an idea's `bar_seq` in MD, the books' `seq`, a version made from the bar's
// stream sequence, and an equity point's versions: orders_seq, fold_seq, supersedes_from), which
// depend on how the publishes of different symbols interleaved; the start time of a process where a
// row records it (CLOCK_WHEN). The equity curve is compared as it stands (the view equity_points):
// portfolio_history also keeps the versions a point had before a late fill was folded in.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import postgres from 'postgres'
import { deploymentActors } from '../src/app/daemon.js'
import { replayBars } from '../src/app/replay.js'
import { prng, syntheticBars } from '../src/app/synthetic-bars.js'
import { parseConfig } from '../src/config/env.js'
import { expectedWork, waitForQuiescence } from '../src/control/quiesce.js'
import { bucketKeys, LEASE_BUCKET } from '../src/runtime/leases.js'
import { tradingConfig } from './scenario.js'
import { Cleanup, createDatabase, spawnPaperd, startNatsServer, type NatsServer } from './support.js'

const { values: args } = parseArgs({
  options: {
    symbols: { type: 'string', default: '8' },
    bars: { type: 'string', default: '900' },
    kills: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    'lease-ttl': { type: 'string', default: '2000' },
  },
  strict: true,
})
const symbolCount = Number(args.symbols)
const barCount = Number(args.bars)
const kills = Number(args.kills)
const seed = Number(args.seed)
const ttlMs = Number(args['lease-ttl'])
if (!(symbolCount >= 1 && symbolCount <= 26) || !(barCount >= 60) || !(kills >= 0) || !Number.isInteger(seed) || !(ttlMs >= 500)) {
  console.error('usage: npm run chaos -- [--symbols 1..26] [--bars N ≥ 60] [--kills N] [--seed N] [--lease-ttl MS ≥ 500]')
  process.exit(2)
}

/** Columns that are not facts of the trading (see the top of the file). */
const NOT_FACTS = new Set(['recorded_at', 'updated_at', 'stream_seq', 'seq', 'bar_seq', 'orders_seq', 'fold_seq', 'supersedes_from'])
// performance_metrics is a view of the points and positions, compared as themselves; the points as
// they stand (equity_points), not every version portfolio_history keeps, nor the supersessions.
const NOT_COMPARED_TABLES = new Set(['consumer_offsets', 'schema_migrations', 'performance_metrics', 'portfolio_history', 'portfolio_supersessions'])
/**
 * Columns that hold a process's clock on some rows: the config file's risk settings are announced
 * when a process starts (a risk_config command), before the account has a bar, so their risk_state
 * is dated at that start — compared as absent there, and as a fact everywhere else.
 */
const CLOCK_WHEN: Record<string, Record<string, string>> = {
  risk_config: { ts: "updated_by = 'config'" },
  risk_config_history: { ts: "updated_by = 'config'" },
}

type Event = 'kill' | 'freeze' | 'nats'

async function main(): Promise<number> {
  const cleanup = new Cleanup()
  process.once('SIGINT', () => void cleanup.runAll().then(() => process.exit(130)))
  const random = prng(seed)
  try {
    const symbols = Array.from({ length: symbolCount }, (_, k) => `CHA${String.fromCharCode(65 + k)}`)
    const data = symbols.map((symbol, k) => ({
      symbol,
      timeframe: '1d',
      bars: syntheticBars(barCount, { seed: seed * 100 + k, start: '2012-01-03T00:00:00Z', price: 40 + 7 * k, stepMs: 86_400_000 }),
    }))
    const config = tradingConfig(symbols)
    const parsed = parseConfig(config)
    const dir = mkdtempSync(join(tmpdir(), 'paperd-chaos-'))
    cleanup.add('remove the config', async () => rmSync(dir, { recursive: true, force: true }))
    const configFile = join(dir, 'config.json')
    writeFileSync(configFile, JSON.stringify(config))

    // The plan: kills, with one freeze and one NATS restart among them (a third and half-way in).
    const plan: Event[] = Array.from({ length: Math.max(kills, 2) + 2 }, () => 'kill')
    plan[Math.floor(plan.length / 3)] = 'freeze'
    plan[Math.floor(plan.length / 2)] = 'nats'
    console.log(
      `chaos: seed ${seed}, ${symbols.length} symbols × ${barCount} daily bars, ${parsed.accounts.length} accounts, 3 processes, lease TTL ${ttlMs} ms; ${plan.join(', ')}`,
    )

    const chaotic = await deployment(cleanup, 'chaos')
    const procs: ChildProcess[] = []
    /** Processes that exited without being killed: paperd must ride out everything done here. */
    const died: string[] = []
    const killing = new Set<ChildProcess>()
    const spawnOne = (i: number) => {
      const child = spawnPaperd(['start', '--config', configFile, '--threads', '1'], {
        // With a credential (the server ignores it), a process restarted while NATS is down waits for
        // it and never considers standing in a nats-server of its own (it would not either: that NATS
        // answered before, and the data directory remembers it — but this keeps ./data untouched).
        natsUrl: chaotic.nats.url.replace('nats://', 'nats://chaos@'),
        dbUrl: chaotic.dbUrl,
        env: { PAPERD_LEASE_TTL_MS: String(ttlMs), LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      })
      cleanup.add(`kill process ${i} (${child.pid})`, async () => void child.kill('SIGKILL'))
      child.once('exit', (code, signal) => {
        if (killing.has(child) || cleanup.closed) return
        died.push(`process ${i} (pid ${child.pid}) exited by itself (${signal ?? `code ${code}`}) at ${((Date.now() - t0) / 1000).toFixed(1)} s`)
        console.error(`\n  ${died.at(-1)}; started again`)
        spawnOne(i)
      })
      procs[i] = child
    }
    const t0 = Date.now()
    for (let i = 0; i < 3; i++) spawnOne(i)

    const stretch = Math.ceil(barCount / (plan.length + 1))
    const speed = Math.max(10, Math.round(stretch / 3)) // about three seconds a stretch
    for (let k = 0; k <= plan.length; k++) {
      const replays = Promise.all(
        data.map((d) => replayBars(chaotic.nc, d.bars.slice(k * stretch, (k + 1) * stretch), { symbol: d.symbol, timeframe: '1d', speed })),
      )
      const what = plan[k]
      if (what) {
        await new Promise((r) => setTimeout(r, 500 + random() * 1500))
        const i = Math.floor(random() * procs.length)
        if (what === 'nats') await chaotic.nats.restart()
        else if (what === 'freeze') {
          // The others take its scopes; resumed, it must act on none of them.
          procs[i]!.kill('SIGSTOP')
          await new Promise((r) => setTimeout(r, ttlMs * 2.5))
          procs[i]!.kill('SIGCONT')
        } else {
          const victim = procs[i]!
          killing.add(victim)
          const exited = new Promise((r) => (victim.exitCode !== null || victim.signalCode !== null ? r(null) : victim.once('exit', r)))
          victim.kill('SIGKILL')
          await exited
          spawnOne(i)
        }
        process.stdout.write(
          `\r  ${k + 1}/${plan.length}: ${what}${what === 'nats' ? '' : ` process ${i}`} at ${((Date.now() - t0) / 1000).toFixed(1)} s      `,
        )
      }
      await replays
    }
    console.log(`\nchaos: replays done after ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for the deployment to process everything`)
    await settle(chaotic.nc, parsed)
    const owners = await leaseOwners(chaotic.nc)
    const leasedScopes = deploymentActors(parsed)
      .filter((d) => d.ordered)
      .reduce((n, d) => n + d.scopes.length, 0)
    const instances = new Set(owners.values())
    let differences = died.length
    for (const d of died) console.error(`  ${d}`)
    if (owners.size !== leasedScopes || instances.size !== 3) {
      differences++
      console.error(`  ${owners.size}/${leasedScopes} scopes owned, by ${instances.size} instances (3 running)`)
    }
    console.log(`chaos: done in ${((Date.now() - t0) / 1000).toFixed(1)} s; every scope owned: ${owners.size}/${leasedScopes} by ${instances.size} instances`)

    console.log('chaos: the same bars through one uninterrupted process, on a fresh server and database')
    const calm = await deployment(cleanup, 'calm')
    const single = spawnPaperd(['start', '--config', configFile, '--threads', '1'], {
      natsUrl: calm.nats.url,
      dbUrl: calm.dbUrl,
      env: { LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    cleanup.add('kill the single process', async () => void single.kill('SIGKILL'))
    // At the chaotic run's pace (nothing may depend on it, but the ideas a gate takes from several
    // strategy scopes may, README Known limits; each account here has one).
    for (let k = 0; k <= plan.length; k++)
      await Promise.all(data.map((d) => replayBars(calm.nc, d.bars.slice(k * stretch, (k + 1) * stretch), { symbol: d.symbol, timeframe: '1d', speed })))
    await settle(calm.nc, parsed)

    const tables = await compareTables(chaotic.dbUrl, calm.dbUrl)
    for (const t of tables) {
      if (t.onlyChaos.length + t.onlyCalm.length === 0) continue
      differences++
      console.error(`  ${t.table}: ${t.onlyChaos.length} row(s) only in the chaotic run, ${t.onlyCalm.length} only in the single process's`)
      for (const r of t.onlyChaos.slice(0, 3)) console.error(`    chaos: ${r}`)
      for (const r of t.onlyCalm.slice(0, 3)) console.error(`    calm:  ${r}`)
    }
    const rows = tables.reduce((n, t) => n + t.rows, 0)
    console.log(
      `chaos: ${tables.length} tables, ${rows} rows: ${differences === 0 ? 'every table equals the single process run' : `${differences} difference(s)`}`,
    )
    return differences === 0 ? 0 : 1
  } finally {
    await cleanup.runAll()
  }
}

/** A nats-server, a database and a feed connection that rides out server restarts. */
async function deployment(cleanup: Cleanup, name: string): Promise<{ nats: NatsServer; dbUrl: string; nc: NatsConnection }> {
  const nats = await startNatsServer()
  cleanup.add(`stop the ${name} nats-server`, () => nats.stop())
  const db = await createDatabase(cleanup)
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 })
  cleanup.add(`close the ${name} feed connection`, () => nc.close())
  return { nats, dbUrl: db.url, nc }
}

async function settle(nc: NatsConnection, parsed: ReturnType<typeof parseConfig>): Promise<void> {
  await waitForQuiescence(await jetstreamManager(nc), {
    timeoutMs: Number(process.env.CHAOS_WAIT_MS ?? 300_000),
    deployment: { nc, expected: expectedWork(deploymentActors(parsed), true) },
  })
}

/** actor.scope → owning instance, from the lease bucket. */
async function leaseOwners(nc: NatsConnection): Promise<Map<string, string>> {
  const kv = await new Kvm(jetstream(nc)).open(LEASE_BUCKET)
  const out = new Map<string, string>()
  for (const key of await bucketKeys(await jetstreamManager(nc), LEASE_BUCKET, 'scope.>')) {
    const e = await kv.get(key)
    if (e?.operation === 'PUT') out.set(key.slice('scope.'.length), e.json<{ instance: string }>().instance)
  }
  return out
}

/** Per table: its rows (facts only, as JSON) in one database and not the other. */
async function compareTables(a: string, b: string) {
  const sa = postgres(a, { max: 1, onnotice: () => {} })
  const sb = postgres(b, { max: 1, onnotice: () => {} })
  try {
    const columns = await sa<{ table_name: string; column_name: string }[]>`
      select table_name, column_name from information_schema.columns
      where table_schema = 'public' order by table_name, ordinal_position`
    const byTable = new Map<string, string[]>()
    for (const c of columns) {
      if (NOT_COMPARED_TABLES.has(c.table_name) || NOT_FACTS.has(c.column_name)) continue
      byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name])
    }
    const out: { table: string; rows: number; onlyChaos: string[]; onlyCalm: string[] }[] = []
    for (const [table, cols] of byTable) {
      // Each row as the JSON of its facts, numbers as text (exact, whatever their scale).
      const read = async (sql: postgres.Sql) =>
        (
          await sql.unsafe<{ r: string }[]>(
            `select json_build_array(${cols.map((c) => (CLOCK_WHEN[table]?.[c] ? `case when ${CLOCK_WHEN[table][c]} then null else "${c}"::text end` : `"${c}"::text`)).join(', ')})::text as r from "${table}"`,
          )
        ).map((x) => x.r)
      const [ra, rb] = await Promise.all([read(sa), read(sb)])
      out.push({ table, rows: ra.length, onlyChaos: missingFrom(ra, rb), onlyCalm: missingFrom(rb, ra) })
    }
    return out
  } finally {
    await Promise.all([sa.end(), sb.end()])
  }
}

/** Rows of `a` that `b` lacks, counting repeats. */
function missingFrom(a: string[], b: string[]): string[] {
  const left = new Map<string, number>()
  for (const r of b) left.set(r, (left.get(r) ?? 0) + 1)
  const out: string[] = []
  for (const r of a) {
    const n = left.get(r) ?? 0
    if (n > 0) left.set(r, n - 1)
    else out.push(r)
  }
  return out
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos failed: ${(err as Error).stack ?? err}`)
    process.exit(1)
  },
)
