// `npm run soak [-- --seconds S] [--seed N] [--symbols K]`: the risk gate and the paper executor, each
// its own `paperd start` process, SIGKILLed at random moments (seeded) again and again while daily
// bars of several symbols are replayed; the other actors run in this process. When the replays are
// done and the deployment has processed everything, every fill must equal `paperd backtest` on the
// same config and data, and every account's final cash its backtest's. It prints what it did and
// exits 1 on the first difference. Minutes long, so it is not part of `npm test` (which runs a
// short, deterministic version: test/integration/executor-kill.test.ts, and every interleaving of
// the two handlers: test/unit/interleavings.test.ts).
import type { ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import postgres from 'postgres'
import { runBacktest } from '../src/app/backtest.js'
import { loadEnv, parseConfig } from '../src/config/env.js'
import { deploymentActors, startDaemon } from '../src/app/daemon.js'
import { createLogger } from '../src/telemetry/log.js'
import { expectedWork, waitForQuiescence } from '../src/control/quiesce.js'
import { replayBars } from '../src/app/replay.js'
import { streamRange } from '../src/runtime/stream-range.js'
import { decodeCheckpoint } from '../src/runtime/checkpoints.js'
import { Cleanup, createDatabase, spawnPaperd, startNatsServer } from './support.js'
import { prng, syntheticBars } from '../src/app/synthetic-bars.js'
import { tradingConfig } from './scenario.js'

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '120' }, seed: { type: 'string', default: '1' }, symbols: { type: 'string', default: '3' } },
  strict: true,
})
const seconds = Number(args.seconds)
const seed = Number(args.seed)
const symbolCount = Number(args.symbols)
if (!(seconds > 0) || !Number.isInteger(seed) || !(symbolCount >= 1 && symbolCount <= 8)) {
  console.error('usage: npm run soak -- [--seconds S > 0] [--seed N] [--symbols 1..8]')
  process.exit(2)
}

async function main(): Promise<number> {
  const cleanup = new Cleanup()
  const onSignal = () => void cleanup.runAll().then(() => process.exit(130))
  process.once('SIGINT', onSignal)
  const random = prng(seed)
  try {
    const symbols = ['SOAKA', 'SOAKB', 'SOAKC', 'SOAKD', 'SOAKE', 'SOAKF', 'SOAKG', 'SOAKH'].slice(0, symbolCount)
    const data = symbols.map((symbol, k) => ({
      symbol,
      timeframe: '1d',
      bars: syntheticBars(1500, { seed: seed * 100 + k, start: '2010-01-04T00:00:00Z', price: 50 + 10 * k, stepMs: 86_400_000 }),
    }))
    const config = tradingConfig(symbols)
    const dir = mkdtempSync(join(tmpdir(), 'paperd-soak-'))
    cleanup.add('remove the config', async () => rmSync(dir, { recursive: true, force: true }))
    const configFile = join(dir, 'config.json')
    writeFileSync(configFile, JSON.stringify(config))
    const parsed = parseConfig(config)

    const nats = await startNatsServer()
    cleanup.add('stop nats-server', () => nats.stop())
    const db = await createDatabase(cleanup)
    const log = createLogger('warn')
    const env = loadEnv({ NATS_URL: nats.url, DATABASE_URL: db.url, LOG_LEVEL: 'warn', METRICS_PORT: '0' })
    const upstream = await startDaemon({ env, actors: ['market-snapshots', 'indicators', 'strategy', 'persister'], config: parsed, log })
    cleanup.add('stop the in-process actors', () => upstream.stop())
    await upstream.live

    // The two processes under test, restarted after every kill.
    const spawnActor = (actor: string): ChildProcess => {
      const child = spawnPaperd(['start', '--actors', actor, '--config', configFile], {
        natsUrl: nats.url,
        dbUrl: db.url,
        env: { LOG_LEVEL: process.env.SOAK_DEBUG ? 'debug' : 'warn', PAPERD_THREADS: '1' },
        stdio: ['ignore', process.env.SOAK_DEBUG ? 'pipe' : 'ignore', process.env.SOAK_DEBUG ? 'pipe' : 'inherit'],
      })
      // SOAK_DEBUG: every process's log, in order, in one file per actor.
      if (process.env.SOAK_DEBUG) {
        const file = createWriteStream(join(tmpdir(), `soak-${actor}.log`), { flags: 'a' })
        child.stdout!.pipe(file)
        child.stderr!.pipe(file)
      }
      cleanup.add(`kill ${actor} ${child.pid}`, async () => void child.kill('SIGKILL'))
      return child
    }
    const victims = { 'risk-gate': spawnActor('risk-gate'), 'paper-executor': spawnActor('paper-executor') }

    const nc = await connect({ servers: nats.url })
    cleanup.add('close the feed connection', () => nc.close())
    const bars = data[0]!.bars.length
    // Spread the bars over most of the run, every symbol in step (bar time order, as the backtest).
    const speed = Math.max(5, Math.round(bars / (seconds * 0.8)))
    console.log(
      `soak: seed ${seed}, ${symbols.length} symbol(s) × ${bars} daily bars at ${speed} bars/s each, ${config.accounts.length} accounts; killing the risk gate and the executor for ~${seconds} s`,
    )
    let replaying = true
    const replays = Promise.all(data.map((d) => replayBars(nc, d.bars, { symbol: d.symbol, timeframe: '1d', speed }))).finally(() => (replaying = false))

    let kills = 0
    const started = Date.now()
    while (replaying && Date.now() - started < seconds * 1000) {
      // A random moment: 0.5 to 4 s from now, whichever process the dice say.
      await new Promise((r) => setTimeout(r, 500 + random() * 3500))
      if (!replaying) break
      const actor = random() < 0.5 ? 'risk-gate' : 'paper-executor'
      victims[actor].kill('SIGKILL')
      await new Promise((r) => victims[actor].once('exit', r))
      victims[actor] = spawnActor(actor)
      kills++
      process.stdout.write(`\r  ${kills} kills (last: ${actor}) after ${Math.round((Date.now() - started) / 1000)} s   `)
    }
    await replays
    console.log(`\nsoak: replays done after ${kills} kills; waiting for the deployment to process everything`)
    const jsm = await jetstreamManager(nc)
    try {
      await waitForQuiescence(jsm, {
        timeoutMs: Number(process.env.SOAK_WAIT_MS ?? 300_000),
        deployment: { nc, expected: expectedWork(deploymentActors(parsed), true) },
      })
    } catch (err) {
      if (process.env.SOAK_DEBUG) {
        await dumpState(nc, jsm)
        const bt = await runBacktest(parsed, data)
        writeFileSync(join(tmpdir(), 'soak-backtest.jsonl'), [...bt.statuses, ...bt.fills].map((f) => JSON.stringify(f)).join('\n'))
      }
      throw err
    }

    const run = await runBacktest(parsed, data)
    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    cleanup.add('close the database pool', () => sql.end({ timeout: 5 }))
    const trades = await sql<
      { trade_id: string; qty: number; price: number; commission: number; ts: Date }[]
    >`select trade_id, qty::float8 as qty, price::float8 as price, commission::float8 as commission, ts from trades`
    const got = new Map(trades.map((t) => [t.trade_id, t]))
    let differences = 0
    for (const f of run.fills) {
      const t = got.get(f.id)
      if (!t || t.qty !== f.qty || t.price !== f.price || t.commission !== f.commission) {
        if (differences++ < 10)
          console.error(`  fill ${f.id}: backtest ${f.qty} @ ${f.price} on ${f.ts}, daemon ${t ? `${t.qty} @ ${t.price} on ${t.ts.toISOString()}` : 'none'}`)
      }
      got.delete(f.id)
    }
    for (const id of got.keys()) if (differences++ < 10) console.error(`  fill ${id}: in the daemon only`)
    const finalCash = new Map<string, number>()
    for (const p of run.portfolios) finalCash.set(p.account, p.cash)
    for (const row of await sql<{ account: string; cash: number }[]>`select account, cash::float8 as cash from portfolio_state`) {
      if (finalCash.get(row.account) !== row.cash && differences++ < 10)
        console.error(`  cash of ${row.account}: backtest ${finalCash.get(row.account)}, daemon ${row.cash}`)
    }
    if (differences && process.env.SOAK_DEBUG) {
      const { listDeadLetters } = await import('../src/control/dlq.js')
      for (const d of await listDeadLetters(nc)) console.error(`  dead letter ${d.actor} ${d.subject} ${d.reason}`)
      await dumpState(nc, jsm)
      for (const a of parsed.accounts) console.error(`  backtest ${a.id}: cash ${finalCash.get(a.id)}`)
    }
    console.log(
      `soak: ${kills} kills, ${run.fills.length} fills in ${parsed.accounts.length} accounts: ${differences === 0 ? 'every fill and every cash balance equal the backtest' : `${differences} difference(s)`}`,
    )
    return differences === 0 ? 0 : 1
  } finally {
    await cleanup.runAll()
  }
}

/** SOAK_DEBUG: what each gate and executor checkpoint holds (without the bars they keep) and every paperd durable. */
async function dumpState(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
  const { Kvm } = await import('@nats-io/kv')
  const kv = await new Kvm(jetstream(nc)).open('paperd_state')
  const keys: string[] = []
  for await (const key of await kv.keys()) keys.push(key)
  for (const key of keys.sort()) {
    if (!key.startsWith('risk-gate.') && !key.startsWith('paper-executor.')) continue
    const cp = decodeCheckpoint((await kv.get(key))!.value)
    const strip = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(strip)
      if (v && typeof v === 'object')
        return Object.fromEntries(
          Object.entries(v).map(([k, x]) => [
            k,
            k === 'bars' && x && typeof x === 'object' && Object.values(x).every(Array.isArray)
              ? Object.fromEntries(
                  Object.entries(x as Record<string, { seq: number }[]>).map(([s, b]) => [s, `${b.length} bars ${b[0]?.seq}..${b.at(-1)?.seq}`]),
                )
              : strip(x),
          ]),
        )
      return v
    }
    console.error(`  ${key}: positions ${JSON.stringify(cp.positions)}\n    ${JSON.stringify(strip(cp.state)).slice(0, 4000)}`)
  }
  // Each account's TRADE history: a message id stored twice, an exit fill larger than the position.
  for (const key of keys.filter((k) => k.startsWith('risk-gate.'))) {
    const account = key.slice('risk-gate.'.length)
    const all: { seq: number; d: Record<string, unknown> }[] = []
    for await (const m of streamRange({ nc, js: jetstream(nc), jsm }, 'TRADE', `trade.*.${account}`, 1, Number.MAX_SAFE_INTEGER))
      all.push({ seq: m.seq, d: m.json() })
    const seen = new Map<string, number>()
    const pos = new Map<string, number>()
    let anomaly = -1
    all.forEach(({ seq, d }, i) => {
      const id = String(d.id)
      if (seen.has(id) && anomaly < 0) {
        console.error(`  ${account}: ${id} stored at ${seen.get(id)} and ${seq}`)
        anomaly = i
      }
      seen.set(id, seq)
      if (d.type !== 'trade.fill') return
      const before = pos.get(String(d.symbol)) ?? 0
      const after = before + (d.side === 'buy' ? 1 : -1) * Number(d.qty)
      pos.set(String(d.symbol), after)
      if (d.intent === 'exit' && (Math.abs(after) > Math.abs(before) || Math.sign(after) * Math.sign(before) < 0) && anomaly < 0) {
        console.error(`  ${account}: exit fill ${id} at ${seq} takes ${before} to ${after}`)
        anomaly = i
      }
    })
    console.error(`  ${account}: ${all.length} TRADE messages${anomaly < 0 ? ', no anomaly' : ''}`)
    writeFileSync(join(tmpdir(), `soak-trade-${account}.jsonl`), all.map((x) => JSON.stringify({ seq: x.seq, ...x.d })).join('\n'))
    if (anomaly >= 0)
      for (const { seq, d } of all.slice(Math.max(0, anomaly - 25), anomaly + 5))
        console.error(
          `    ${seq} ${d.type} ${d.id} ${d.ts} qty=${d.qty ?? ''} side=${d.side ?? ''} status=${d.status ?? ''} ${d.reason ?? ''} bar_seq=${d.bar_seq ?? ''}`,
        )
  }
  for (const stream of ['TRADE', 'MD'])
    for await (const c of jsm.consumers.list(stream)) {
      if (!c?.config?.durable_name || !/^(risk-gate|paper-executor)/.test(c.name)) continue
      console.error(
        `  durable ${c.name}: delivered ${c.delivered.stream_seq}/${c.delivered.consumer_seq} ack floor ${c.ack_floor.stream_seq}/${c.ack_floor.consumer_seq} pending ${c.num_pending} ack pending ${c.num_ack_pending} waiting ${c.num_waiting}`,
      )
    }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`soak failed: ${(err as Error).stack ?? err}`)
    process.exit(1)
  },
)
