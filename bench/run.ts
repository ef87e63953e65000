// `npm run bench [-- --bars N] [--quick] [--profile] [--rates R1,R2] [--seconds S] [--symbols N] [--threads N] [--stages] [--kills K] [--lease-ttl MS] [--only ceiling,pipeline,pipeline4,latency,backtest,failover]`
// SPEC §9 from one run on this machine, each phase on its own fresh nats-server -js (random port,
// temp store, removed afterwards) and its own fresh Postgres database (dropped afterwards):
//   1. raw JetStream single-hop ceiling  2. end-to-end pipeline bars/s (1 and 4 symbols) and the
//   ratio  3. bar → persisted fill latency at a steady rate  4. persister rows/s vs a plain batched
//   insert  5. backtest bars/s (the same handlers in-process, no NATS, no Postgres)  6. failover time
//   of a scope whose owner is SIGKILLed (median and worst over --kills, against the lease TTL).
// It measures and reports; it never fails on a threshold (only on an error it could not measure
// through). Numbers go to stdout as tables and to .bench/last.json.
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { ACTOR_NAMES } from '../src/core/actor.js'
import { runBacktest } from '../src/app/backtest.js'
import { loadConfigFile, parseConfig } from '../src/config/env.js'
import type { ConfigFile } from '../src/core/config-file.js'
import type { StrategyConfig } from '../src/core/config-file/strategies.js'
import { createLogger } from '../src/telemetry/log.js'
import { DEFAULT_PARTITIONS, partitionOf } from '../src/core/partition.js'
import { PACKAGE_ROOT } from '../src/config/paths.js'
import { measureCeiling, type CeilingResult } from './ceiling.js'
import { measureFailover, type FailoverResult } from './failover.js'
import { startProfiling, summariseProfile, type ProfileSummary } from './profile.js'
import { persisterDrain, plainInsert, replayDriver, runDaemon, steadyDriver, type PlainInsertResult, type RunResult, type Target } from './pipeline.js'
import { hopsOf, type Hop } from './hops.js'
import {
  BASE_DATABASE_URL,
  barsCsv,
  canonicalFor,
  Cleanup,
  createDatabase,
  minuteBars,
  percentile,
  round,
  startNatsServer,
  type SyntheticBar,
} from './support.js'

const { values: args } = parseArgs({
  options: {
    bars: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    rates: { type: 'string' },
    seconds: { type: 'string' },
    symbols: { type: 'string' },
    kills: { type: 'string' },
    'lease-ttl': { type: 'string' },
    // The daemon's worker threads (default: as `paperd start` chooses); profiling runs one.
    threads: { type: 'string' },
    // Latency runs also time each bar's md.part and md.bar copies (.bench/latency-<rate>.json): where a slow fill waited.
    stages: { type: 'boolean', default: false },
  },
  strict: true,
})

const positive = (v: string | undefined, name: string, fallback: number): number => {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!(n > 0) || !Number.isFinite(n)) {
    console.error(`bench: --${name} must be a positive number`)
    process.exit(2)
  }
  return n
}
const N = Math.round(positive(args.bars, 'bars', args.quick ? 2_000 : 20_000))
// The SPEC's rate, and a lower one the pipeline can sustain on a small box (intrinsic latency).
const RATES = (args.rates ?? '1000,200').split(',').map((r) => positive(r.trim(), 'rates', 1))
const LAT_SECONDS = positive(args.seconds, 'seconds', args.quick ? 2 : 20)
/** Symbols of the latency runs, bars round-robin: 100, as the issue's independent feed publishes. */
const LAT_SYMBOLS = positive(args.symbols, 'symbols', 100)
const PHASES = ['ceiling', 'pipeline', 'pipeline4', 'latency', 'backtest', 'failover'] as const
const KILLS = Math.round(positive(args.kills, 'kills', args.quick ? 5 : 20))
// The product's default lease (PAPERD_LEASE_TTL_MS); a failover is mostly waiting for it to run out.
const LEASE_TTL_MS = Math.round(positive(args['lease-ttl'], 'lease-ttl', 5_000))
const BACKTEST_BARS = args.quick ? 20_000 : 200_000
const ONLY = new Set(args.only ? args.only.split(',').map((p) => p.trim()) : PHASES)
for (const p of ONLY) {
  if (!(PHASES as readonly string[]).includes(p)) {
    console.error(`bench: --only takes a list of ${PHASES.join(', ')} (pipeline includes the persister drain and the plain insert)`)
    process.exit(2)
  }
}
const QUIESCE_TIMEOUT_MS = args.quick ? 60_000 : 150_000
const BENCH_DIR = join(PACKAGE_ROOT, '.bench')
mkdirSync(BENCH_DIR, { recursive: true })
// Daemon warnings go to a file (counted in the report), so the tables stay readable.
const LOG_FILE = join(BENCH_DIR, 'daemon.log')
const logStream = createWriteStream(LOG_FILE)
let warnings = 0
const log = createLogger('warn', {
  stream: new Writable({
    write(chunk: Buffer, _enc, done) {
      warnings += chunk.toString('utf8').split('\n').filter(Boolean).length
      logStream.write(chunk, done)
    },
  }),
})

// Every phase's cleanup stack, so Ctrl-C / SIGTERM still stops servers and drops databases.
const active = new Set<Cleanup>()
let interrupted = false
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (interrupted) process.exit(130)
    interrupted = true
    console.error(`\nbench: ${sig}, cleaning up…`)
    void (async () => {
      // Twice: a phase may register a step (a server just started) while the first pass runs.
      for (let pass = 0; pass < 2; pass++) {
        await Promise.allSettled([...active].map((c) => c.runAll()))
        await new Promise((r) => setTimeout(r, 300))
      }
      process.exit(130)
    })()
  })
}

// A stray rejection (a client closed under a phase by Ctrl-C) must not crash past the cleanup.
process.on('unhandledRejection', (err) => console.error(`bench: unhandled rejection: ${(err as Error)?.message ?? err}`))

const errors: Record<string, string> = {}
/** Daemon warnings (e.g. "pull failed; retrying", each a 1 s pause of that consumer) per phase. */
const phaseWarnings: Record<string, number> = {}
async function phase<T>(name: string, fn: (cleanup: Cleanup) => Promise<T>): Promise<T | null> {
  if (interrupted) return null
  const cleanup = new Cleanup()
  active.add(cleanup)
  const t0 = performance.now()
  const w0 = warnings
  process.stderr.write(`bench: ${name}… `)
  try {
    const r = await fn(cleanup)
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
    return r
  } catch (err) {
    process.stderr.write('failed\n')
    errors[name] = (err as Error).stack ?? String(err)
    console.error(`bench: ${name} failed: ${(err as Error).message}`)
    return null
  } finally {
    await cleanup.runAll()
    active.delete(cleanup)
    if (warnings > w0) phaseWarnings[name] = warnings - w0
  }
}

async function target(cleanup: Cleanup, server?: Target['server']): Promise<Target> {
  const s = server ?? (await startNatsServer())
  if (!server) cleanup.add('stop nats-server', () => s.stop())
  const db = await createDatabase(cleanup)
  return { server: s, dbUrl: db.url, dbName: db.name, log, cleanup, quiesceTimeoutMs: QUIESCE_TIMEOUT_MS }
}

/**
 * `count` symbols spread evenly over the partitions — up to 16 in distinct ones, so each lands on
 * its own indicators/strategy scope; beyond that, as many in each partition as the count allows.
 */
function symbols(prefix: string, count: number): string[] {
  const out: string[] = []
  const perPartition = new Map<number, number>()
  const most = Math.ceil(count / DEFAULT_PARTITIONS)
  for (let i = 0; out.length < count && i < 100_000; i++) {
    const s = `${prefix}${i}`
    const p = partitionOf(s)
    if ((perPartition.get(p) ?? 0) >= most) continue
    perPartition.set(p, (perPartition.get(p) ?? 0) + 1)
    out.push(s)
  }
  return out
}

function fastCrossFor(syms: string[]): ConfigFile {
  const base = loadConfigFile(join(PACKAGE_ROOT, 'examples', 'canonical.json'))
  return parseConfig(
    {
      accounts: base.accounts.map((a) => ({ ...a, starting_cash: 1_000_000, risk: { ...a.risk, max_concurrent_trades: null } })),
      strategies: [
        {
          id: 'sma-2-5',
          account: base.accounts[0]!.id,
          symbols: syms,
          timeframe: '1m',
          indicators: { fast: { type: 'sma', period: 2 }, slow: { type: 'sma', period: 5 } },
          entry: { long: { crossesAbove: ['fast', 'slow'] } },
          exit: { long: { crossesBelow: ['fast', 'slow'] } },
          sizing: { fixed_qty: 10 },
        },
      ],
    },
    'bench latency config',
  )
}

const seriesOf = (syms: string[], perSymbol: number, seed: number) => syms.map((symbol, i) => ({ symbol, bars: minuteBars(perSymbol, seed + i) }))

/** The commit measured, and whether the work tree differs from it (numbers move with the code). */
function gitDescribe(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PACKAGE_ROOT, encoding: 'utf8' }).stdout?.trim()
  if (!head) return 'unknown'
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: PACKAGE_ROOT, encoding: 'utf8' }).stdout?.trim()
  return dirty ? `${head} + uncommitted changes` : head
}

function versionOf(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' })
  return (r.stdout || r.stderr || '?').trim().split('\n')[0]!
}

async function postgresVersion(): Promise<string> {
  const sql = postgres(BASE_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {} })
  try {
    const [r] = await sql`select current_setting('server_version') as v`
    return `PostgreSQL ${(r as { v: string }).v}`
  } catch (err) {
    return `PostgreSQL unreachable (${(err as Error).message})`
  } finally {
    await sql.end({ timeout: 5 })
  }
}

interface LatencyResult {
  rate: number
  seconds: number
  symbols: number
  barsPublished: number
  achievedRate: number
  /** Time from the last publish to quiescence: well above 0 means the pipeline did not keep up. */
  catchUpSeconds: number
  fills: number
  matched: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  /** Bar published → its fill seen on trade.fill.> (the issue's measure: no persister in the path). */
  fill: { p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; count: number }
  /**
   * The same for the fills of bars published in the feed's first COLD_MS, and for the rest: the
   * tail is the start (the daemon meets the flow with its hot paths not yet compiled).
   */
  fillStart: { p50Ms: number; p99Ms: number; count: number }
  fillAfter: { p50Ms: number; p99Ms: number; count: number }
  /** With --stages: each hop of a fill's path, p50 and p99 over the fills (hopsOf). */
  hops?: Hop[]
  meaningful: boolean
  run: RunResult
}

/** The start of a latency feed reported apart (LatencyResult.fillStart): where its tail has been. */
const COLD_MS = 2000

/** What `--stages` times besides the fill, hop by hop: `.bench/latency-<rate>.json` has a column for each. */
const STAGES = [
  ['part', 'md.part.>'],
  ['bar', 'md.bar.>'],
  ['ind', 'md.ind.>'],
  ['idea', 'trade.idea.>'],
  ['order', 'trade.order.>'],
] as const

/** A fill as both `paperd backtest --out` and bench/backtrader_sma.py write it (what is compared). */
interface ComparedFill {
  ts: string
  side: string
  qty: number
  price: number
}

/** backtrader on the same file, as bench/backtrader_sma.py runs it; null when python3 cannot import backtrader. */
interface BacktraderResult {
  seconds: number
  fills: number
  /** Fills equal to paperd's, one by one (time, side, quantity, price), and the same count. */
  fillsEqual: boolean
  /** The first fill that differs, when one does. */
  firstDifference?: string
}

/**
 * `paperd backtest` as a user runs it — a process reading a CSV of `bars` and printing its report —
 * timed wall to wall, best of three (the issue compares this with backtrader on the same file). Its
 * fills must be the in-process run's; with backtrader at hand (python3 imports it, or
 * BACKTRADER_PATH names a checkout of mementum/backtrader), the same strategy runs there on the same
 * file, timed the same way, and its fills are compared with paperd's.
 */
function backtestCli(
  config: ConfigFile,
  symbol: string,
  bars: SyntheticBar[],
  fills: number,
): { seconds: number; barsPerSec: number; backtrader: BacktraderResult | null } {
  const dir = mkdtempSync(join(tmpdir(), 'paperd-bench-backtest-'))
  try {
    const csv = join(dir, 'bars.csv')
    writeFileSync(csv, barsCsv(bars))
    const configFile = join(dir, 'config.json')
    writeFileSync(configFile, JSON.stringify(config))
    const out = join(dir, 'report.json')
    let best = Infinity
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      const r = spawnSync(
        process.execPath,
        [join(PACKAGE_ROOT, 'dist/src/cli.js'), 'backtest', '--config', configFile, '--data', `${csv}:${symbol}:1m`, '--timeframe', '1m', '--out', out],
        { encoding: 'utf8' },
      )
      best = Math.min(best, (performance.now() - t0) / 1000)
      if (r.status !== 0) throw new Error(`paperd backtest exited ${r.status}: ${r.stderr}`)
      const said = /^fills\s+(\d+)$/m.exec(r.stdout)?.[1]
      if (Number(said) !== fills) throw new Error(`paperd backtest made ${said} fills, the in-process run ${fills}`)
    }
    const ours = (JSON.parse(readFileSync(out, 'utf8')) as { fills: ComparedFill[] }).fills
    return { seconds: best, barsPerSec: bars.length / best, backtrader: backtraderOn(csv, config, ours) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function backtraderOn(csv: string, config: ConfigFile, ours: ComparedFill[]): BacktraderResult | null {
  const probe = spawnSync('python3', ['-c', "import os, sys; sys.path.insert(0, os.environ.get('BACKTRADER_PATH', '')); import backtrader"], {
    encoding: 'utf8',
  })
  if (probe.status !== 0) return null
  const s = config.strategies[0]! as StrategyConfig
  const a = config.accounts[0]!
  const period = (name: string) => String((s.indicators[name] as { period: number }).period)
  const t0 = performance.now()
  const r = spawnSync(
    'python3',
    [
      join(PACKAGE_ROOT, 'bench', 'backtrader_sma.py'),
      csv,
      period('fast'),
      period('slow'),
      String(s.sizing.fixed_qty),
      String(a.starting_cash),
      String(a.costs.commission_pct),
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  )
  const seconds = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`backtrader exited ${r.status}: ${r.stderr}`)
  const theirs = (JSON.parse(r.stdout) as { fills: ComparedFill[] }).fills
  const key = (f: ComparedFill) => `${f.ts} ${f.side} ${f.qty} @ ${f.price}`
  const at = ours.findIndex((f, i) => theirs[i] === undefined || key(f) !== key(theirs[i]!))
  const differs = at >= 0 ? at : ours.length !== theirs.length ? ours.length : -1
  return {
    seconds,
    fills: theirs.length,
    fillsEqual: differs < 0,
    ...(differs >= 0
      ? {
          firstDifference: `fill ${differs + 1}: paperd ${ours[differs] ? key(ours[differs]) : 'none'}, backtrader ${theirs[differs] ? key(theirs[differs]) : 'none'}`,
        }
      : {}),
  }
}

async function measureLatency(cleanup: Cleanup, rate: number): Promise<LatencyResult> {
  const t = await target(cleanup)
  const syms = symbols('L', LAT_SYMBOLS)
  const total = Math.round(rate * LAT_SECONDS)
  const publishedAt = new Map<string, number>()
  const series = seriesOf(syms, Math.ceil(total / syms.length), 200)
  // Each fill as it appears on NATS, by the bar it fills on: `symbol|bar time` → ms.
  const seenAt = new Map<string, number>()
  const stages = new Map<string, number>()
  /** `symbol|bar time` → the time of the symbol's next bar: the bar an idea's order fills on. */
  const nextBar = new Map<string, string>()
  for (const { symbol, bars } of series) for (let i = 0; i + 1 < bars.length; i++) nextBar.set(`${symbol}|${bars[i]!.ts}`, bars[i + 1]!.ts)
  const drive = steadyDriver(series, rate, total, publishedAt)
  const run = await runDaemon(t, {
    actors: [...ACTOR_NAMES],
    config: fastCrossFor(syms),
    ...(args.threads ? { threads: positive(args.threads, 'threads', 1) } : {}),
    drive: (client) => {
      // Open until the driver's connection closes, after quiescence: late fills are seen too.
      if (args.stages)
        for (const [stage, subject] of STAGES)
          client.subscribe(subject, {
            callback: (err, m) => {
              if (err) return
              const b = m.json<{ symbol?: string; ts: string }>()
              const symbol = b.symbol ?? m.subject.split('.').at(-1)
              const ts = new Date(b.ts).toISOString()
              // An idea and its order carry the signal bar's time; the fill is timed from the next bar.
              const at = stage === 'idea' || stage === 'order' ? nextBar.get(`${symbol}|${ts}`) : ts
              const key = `${stage}|${symbol}|${at}`
              if (!stages.has(key)) stages.set(key, Date.now())
            },
          })
      client.subscribe('trade.fill.>', {
        callback: (err, m) => {
          if (err) return
          const f = m.json<{ symbol: string; ts: string }>()
          seenAt.set(`${f.symbol}|${f.ts}`, Date.now())
        },
      })
      return drive(client)
    },
    sampleLag: args.stages,
    ...(args.profile ? { profileFile: join(BENCH_DIR, `latency-${rate}.cpuprofile`) } : {}),
  })
  const sql = postgres(t.dbUrl, { max: 1, onnotice: () => {} })
  try {
    const trades = await sql<{ symbol: string; ts: Date; recorded_at: Date }[]>`select symbol, ts, recorded_at from trades`
    const lat: number[] = []
    for (const tr of trades) {
      const pub = publishedAt.get(`${tr.symbol}|${tr.ts.toISOString()}`)
      if (pub !== undefined) lat.push(tr.recorded_at.getTime() - pub)
    }
    lat.sort((a, b) => a - b)
    const onNats: number[] = []
    // Every fill with when its bar was published (ms into the run) and how long it took: where a tail comes from.
    const timeline: number[][] = []
    const first = Math.min(...publishedAt.values())
    for (const [key, at] of seenAt) {
      const pub = publishedAt.get(key)
      if (pub === undefined) continue
      onNats.push(at - pub)
      timeline.push([pub - first, at - pub, ...STAGES.map(([stage]) => (stages.get(`${stage}|${key}`) ?? NaN) - pub)])
    }
    onNats.sort((a, b) => a - b)
    writeFileSync(join(BENCH_DIR, `latency-${rate}.json`), JSON.stringify(timeline.sort((a, b) => a[0]! - b[0]!)))
    const hops = args.stages ? hopsOf(timeline) : undefined
    const part = (publishedWhen: (at: number) => boolean) => {
      const ms = timeline
        .filter((row) => publishedWhen(row[0]!))
        .map((row) => row[1]!)
        .sort((a, b) => a - b)
      return { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), count: ms.length }
    }
    return {
      fill: { p50Ms: percentile(onNats, 50), p90Ms: percentile(onNats, 90), p99Ms: percentile(onNats, 99), maxMs: onNats.at(-1) ?? NaN, count: onNats.length },
      fillStart: part((at) => at < COLD_MS),
      fillAfter: part((at) => at >= COLD_MS),
      ...(hops ? { hops } : {}),
      rate,
      seconds: LAT_SECONDS,
      symbols: syms.length,
      barsPublished: total,
      achievedRate: round(total / run.publishSeconds),
      catchUpSeconds: round(run.seconds - run.publishSeconds, 2),
      fills: trades.length,
      matched: lat.length,
      p50Ms: percentile(lat, 50),
      p90Ms: percentile(lat, 90),
      p99Ms: percentile(lat, 99),
      maxMs: lat.at(-1) ?? NaN,
      meaningful: lat.length >= 100,
      run,
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

async function main(): Promise<number> {
  const startedAt = new Date()
  const meta = {
    startedAt: startedAt.toISOString(),
    node: process.version,
    natsServer: versionOf('nats-server', ['--version']),
    postgres: await postgresVersion(),
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    loadavgAtStart: loadavg().map((x) => round(x, 2)),
    commit: gitDescribe(),
    bars: N,
    quick: args.quick,
  }
  const pipelineSymbol = 'ORCL'
  const bars1 = minuteBars(N, 42)

  // 1. Raw JetStream single-hop ceiling.
  const ceiling = !ONLY.has('ceiling')
    ? null
    : await phase('ceiling', async (cleanup) => {
        const server = await startNatsServer()
        cleanup.add('stop nats-server', () => server.stop())
        return measureCeiling(server, bars1)
      })

  // 2a. Pipeline, one symbol; then 4b. the persister alone re-reading what that run produced.
  let drain: RunResult | null = null
  // 4a. The baseline: the rows the drain wrote, copied into an empty database by plain batched inserts.
  let plain: PlainInsertResult | null = null
  const pipeline1 = !ONLY.has('pipeline')
    ? null
    : await phase(`pipeline 1 symbol × ${N} bars, then the persister drain`, async (cleanup) => {
        const t = await target(cleanup)
        const run = await runDaemon(t, {
          actors: [...ACTOR_NAMES],
          config: canonicalFor([pipelineSymbol]),
          drive: replayDriver([{ symbol: pipelineSymbol, bars: bars1 }]),
          sampleLag: true,
          ...(args.profile ? { profileFile: join(BENCH_DIR, 'pipeline.cpuprofile') } : {}),
        })
        // The persister alone, re-reading MD and TRADE from the start into a fresh database.
        try {
          const drainTarget = await target(cleanup, t.server)
          drain = await persisterDrain(drainTarget, args.profile ? join(BENCH_DIR, 'persister-drain.cpuprofile') : undefined)
          plain = await plainInsert(drainTarget.dbUrl, (await target(cleanup, t.server)).dbUrl)
        } catch (err) {
          errors['persister drain'] = (err as Error).stack ?? String(err)
          console.error(`bench: persister drain or its plain baseline failed: ${(err as Error).message}`)
        }
        return run
      })

  // 2b. Pipeline, four symbols in distinct partitions, replayed concurrently.
  const syms4 = symbols('S', 4)
  const per4 = Math.ceil(N / 4)
  const pipeline4 = !ONLY.has('pipeline4')
    ? null
    : await phase(`pipeline 4 symbols × ${per4} bars`, async (cleanup) => {
        const t = await target(cleanup)
        return runDaemon(t, { actors: [...ACTOR_NAMES], config: canonicalFor(syms4), drive: replayDriver(seriesOf(syms4, per4, 100)), sampleLag: true })
      })

  // 3. Latency bar → persisted fill at steady rates.
  const latency: LatencyResult[] = []
  for (const rate of ONLY.has('latency') ? RATES : []) {
    const r = await phase(`latency at ${rate} bars/s × ${LAT_SECONDS} s`, (cleanup) => measureLatency(cleanup, rate))
    if (r) latency.push(r)
  }

  // 5. Backtest: the canonical strategy over 1-minute bars, timed after a warm-up run — kept for a
  // report (`points`), as `paperd backtest` runs it.
  const backtest = !ONLY.has('backtest')
    ? null
    : await phase(`backtest × ${BACKTEST_BARS} bars`, async () => {
        const config = canonicalFor([pipelineSymbol])
        const bars = minuteBars(BACKTEST_BARS, 7)
        await runBacktest(config, [{ symbol: pipelineSymbol, timeframe: '1m', bars: bars.slice(0, Math.min(20_000, bars.length)) }], { points: true })
        const t0 = performance.now()
        const run = await runBacktest(config, [{ symbol: pipelineSymbol, timeframe: '1m', bars }], { points: true })
        const seconds = (performance.now() - t0) / 1000
        // Profiled on a run of its own, so sampling does not slow the one timed above.
        let profile: ProfileSummary | undefined
        if (args.profile) {
          const stop = await startProfiling()
          await runBacktest(config, [{ symbol: pipelineSymbol, timeframe: '1m', bars }], { points: true })
          profile = summariseProfile(await stop(), join(BENCH_DIR, 'backtest.cpuprofile'))
        }
        const cli = backtestCli(config, pipelineSymbol, bars, run.fills.length)
        return { bars: run.bars, seconds, barsPerSec: run.bars / seconds, fills: run.fills.length, cli, ...(profile ? { profile } : {}) }
      })

  // 6. Failover: SIGKILL the owner of a scope, again and again; kill → first message the new owner processes.
  const failover = !ONLY.has('failover')
    ? null
    : await phase(`failover × ${KILLS} kills`, async (cleanup) => {
        const t = await target(cleanup)
        return measureFailover(cleanup, t.server, t.dbUrl, KILLS, LEASE_TTL_MS)
      })

  const results = {
    meta,
    daemonWarnings: phaseWarnings,
    ceiling,
    pipeline1,
    pipeline4,
    drain: drain as RunResult | null,
    plain,
    latency,
    backtest,
    failover,
    errors,
  }
  print(results)
  const file = join(BENCH_DIR, 'last.json')
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`\nJSON: ${file}`)
  return Object.keys(errors).length ? 1 : 0
}

// ---------------------------------------------------------------------------------------------
// Output.

const fmt = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

function table(rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows
    .map((r) =>
      r
        .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

function print(r: {
  meta: Record<string, unknown>
  ceiling: CeilingResult | null
  pipeline1: RunResult | null
  pipeline4: RunResult | null
  drain: RunResult | null
  plain: PlainInsertResult | null
  latency: LatencyResult[]
  backtest: {
    bars: number
    seconds: number
    barsPerSec: number
    fills: number
    cli: { seconds: number; barsPerSec: number; backtrader: BacktraderResult | null }
    profile?: ProfileSummary
  } | null
  failover: FailoverResult | null
}): void {
  const { meta, ceiling, pipeline1: p1, pipeline4: p4, drain, plain, latency, backtest, failover } = r
  console.log(`\npaperd bench — ${meta.startedAt}`)
  console.log(
    `commit ${meta.commit}; node ${meta.node}, ${meta.natsServer}, ${meta.postgres}, ${meta.cpus}, load at start ${(meta.loadavgAtStart as number[]).join(' ')}`,
  )
  console.log(`N = ${N} bars${args.quick ? ' (--quick)' : ''}; each phase on a fresh nats-server and database\n`)

  const missing = (phase: (typeof PHASES)[number]) => (ONLY.has(phase) ? 'failed (see errors)' : 'skipped (--only)')
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? fmt(a / b, 2) : '—')
  // Every row the persister wrote, from live (consuming) to done: the plain insert times only its statements too.
  const drainRows = drain ? sum(drain.rows) / (drain.seconds - drain.startSeconds) : undefined
  const inPipelineRows = p1 ? p1.snapshotRows / p1.seconds : undefined
  const rows: string[][] = [
    ['measure', 'value', 'unit', 'SPEC target', 'detail'],
    [
      '1. JetStream single-hop ceiling',
      fmt(ceiling?.msgsPerSec),
      'msg/s',
      '',
      ceiling
        ? `${ceiling.messages} × ${ceiling.payloadBytes} B, ${ceiling.window} in flight + msgID, file store, consume(500) + ack(); ${fmt(ceiling.seconds, 2)} s`
        : missing('ceiling'),
    ],
    [
      '2. pipeline, 1 symbol',
      fmt(p1?.perSec),
      'bars/s',
      '',
      p1 ? `${p1.messagesIn} bars, ${fmt(p1.seconds, 2)} s first publish → quiescence (publishing took ${fmt(p1.publishSeconds, 2)} s)` : missing('pipeline'),
    ],
    ['   ratio pipeline / ceiling', ratio(p1?.perSec, ceiling?.msgsPerSec), '', '≥ 0.33', ''],
    ['   pipeline, 4 symbols', fmt(p4?.perSec), 'bars/s', '', p4 ? `${p4.messagesIn} bars, 4 replays at once, ${fmt(p4.seconds, 2)} s` : missing('pipeline4')],
    ['   ratio pipeline(4) / ceiling', ratio(p4?.perSec, ceiling?.msgsPerSec), '', '≥ 0.33', ''],
    ...latency.flatMap((l) => [
      [
        `3. bar → fill on NATS p99 @ ${l.rate}/s`,
        fmt(l.fill.p99Ms),
        'ms',
        l.rate === 1000 ? '< 50' : '',
        `p50 ${fmt(l.fill.p50Ms)} ms, p90 ${fmt(l.fill.p90Ms)} ms, max ${fmt(l.fill.maxMs)} ms over ${l.fill.count} fills seen on trade.fill.>`,
      ],
      [
        `   the first ${COLD_MS / 1000} s / after`,
        '',
        'ms',
        '',
        `bars of the feed's first ${COLD_MS / 1000} s: p50 ${fmt(l.fillStart.p50Ms)}, p99 ${fmt(l.fillStart.p99Ms)} (${l.fillStart.count} fills); after: p50 ${fmt(l.fillAfter.p50Ms)}, p99 ${fmt(l.fillAfter.p99Ms)}`,
      ],
      ...(l.hops ? [['   hops p50 / p99', '', 'ms', '', l.hops.map((h) => `${h.hop} ${fmt(h.p50Ms)} / ${fmt(h.p99Ms)}`).join('; ')]] : []),
      [
        `3. bar → persisted fill p50 @ ${l.rate}/s`,
        fmt(l.p50Ms),
        'ms',
        '',
        `${l.matched} fills, ${l.symbols} symbols round-robin, SMA 2/5 cross, ${fmt(l.achievedRate)} bars/s published`,
      ],
      [
        `   bar → persisted fill p99 @ ${l.rate}/s`,
        fmt(l.p99Ms),
        'ms',
        '',
        `p90 ${fmt(l.p90Ms)} ms, max ${fmt(l.maxMs)} ms; ${l.catchUpSeconds > 0.25 ? `BEHIND: quiescent ${fmt(l.catchUpSeconds, 1)} s after the last bar, so latency includes queueing` : `kept up (quiescent ${fmt(l.catchUpSeconds, 2)} s after the last bar)`}${l.meaningful ? '' : ' — TOO FEW FILLS to be meaningful'}`,
      ],
    ]),
    ...(latency.length ? [] : [['3. bar → persisted fill', '—', 'ms', '< 50', missing('latency')]]),
    [
      '4. persister, alone (drain)',
      fmt(drainRows),
      'rows/s',
      '',
      drain
        ? `${sum(drain.rows)} rows in all (${drain.snapshotRows} snapshot rows) from a full backlog, ${fmt(drain.seconds - drain.startSeconds, 2)} s from live to done (start ${fmt(drain.startSeconds, 2)} s)`
        : missing('pipeline'),
    ],
    ['   persister, in the pipeline', fmt(inPipelineRows), 'rows/s', '', p1 ? `snapshot rows / pipeline time (bounded by upstream actors)` : ''],
    [
      '   plain batched insert',
      fmt(plain?.rowsPerSec),
      'rows/s',
      '',
      plain
        ? `the same ${plain.rows} rows, every table, insert … select from unnest, ${plain.batch}/statement, ${fmt(plain.seconds, 2)} s`
        : missing('pipeline'),
    ],
    ['   ratio persister(drain) / plain', ratio(drainRows, plain?.rowsPerSec), '', '≥ 0.7', ''],
    backtest
      ? [
          '5. backtest',
          fmt(backtest.barsPerSec),
          'bars/s',
          '≈ 1M',
          `${backtest.bars} 1m bars, canonical SMA cross, ${backtest.fills} fills, ${fmt(backtest.seconds, 2)} s in-process`,
        ]
      : ['5. backtest', '—', 'bars/s', '≈ 1M', missing('backtest')],
    backtest
      ? [
          '   backtest end to end',
          fmt(backtest.cli.barsPerSec),
          'bars/s',
          '',
          `\`paperd backtest\` on the same bars as a CSV, as a user runs it (start, read, run, report): ${fmt(backtest.cli.seconds, 2)} s, best of 3`,
        ]
      : ['   backtest end to end', '—', 'bars/s', '', missing('backtest')],
    backtest?.cli.backtrader
      ? [
          '   ratio backtrader / paperd',
          fmt(backtest.cli.backtrader.seconds / backtest.cli.seconds, 1),
          '×',
          '≥ 20',
          `backtrader on the same file: ${fmt(backtest.cli.backtrader.seconds, 2)} s wall, ${backtest.cli.backtrader.fills} fills, ${
            backtest.cli.backtrader.fillsEqual ? 'every fill equal to paperd’s' : `FILLS DIFFER: ${backtest.cli.backtrader.firstDifference}`
          }`,
        ]
      : [
          '   ratio backtrader / paperd',
          '—',
          '×',
          '≥ 20',
          backtest ? 'python3 cannot import backtrader (set BACKTRADER_PATH to a checkout of mementum/backtrader)' : missing('backtest'),
        ],
    failover
      ? [
          '6. failover, median',
          fmt(failover.medianMs / 1000, 2),
          's',
          'seconds',
          `SIGKILL of a scope's owner → first bar processed by the new owner; ${failover.kills} kills, lease TTL ${fmt(failover.ttlMs / 1000, 1)} s (median = ${fmt(failover.medianPerTtl, 2)} × TTL)`,
        ]
      : ['6. failover, median', '—', 's', 'seconds', missing('failover')],
    [
      '   failover, worst',
      fmt(failover ? failover.worstMs / 1000 : undefined, 2),
      's',
      '',
      failover ? `of ${failover.samplesMs.map((x) => fmt(x / 1000, 1)).join(', ')}` : '',
    ],
  ]
  console.log(table(rows, ['l', 'r', 'l', 'l', 'l']))

  // Where the time goes.
  const runs: [string, RunResult | null][] = [
    ['pipeline 1 sym', p1],
    ['pipeline 4 sym', p4],
    ...latency.map((l): [string, RunResult] => [`latency @ ${l.rate}/s`, l.run]),
    ['persister drain', drain],
  ]
  console.log('\nCPU seconds per run (2 cores = 2 CPU-s per wall second):')
  // Per bar in: what to compare across builds at a steady rate, where p99 swings with the machine.
  const cpuRows = [['run', 'wall s', 'node (bench+daemon)', 'nats-server', 'postgres', 'other processes', 'node + nats ms/bar']]
  let contended = false
  const others = (o: number, wall: number) => {
    if (o > 0.1 * wall) contended = true
    return `${fmt(o, 2)}${o > 0.1 * wall ? ' !' : ''}`
  }
  if (ceiling)
    cpuRows.push([
      'ceiling',
      fmt(ceiling.seconds, 2),
      fmt(ceiling.cpu.node, 2),
      fmt(ceiling.cpu.natsServer, 2),
      '—',
      others(ceiling.cpu.others, ceiling.seconds),
      '—',
    ])
  for (const [name, run] of runs)
    if (run)
      cpuRows.push([
        name,
        fmt(run.seconds, 2),
        fmt(run.cpu.node, 2),
        fmt(run.cpu.natsServer, 2),
        fmt(run.cpu.postgres, 2),
        others(run.cpu.others, run.seconds),
        run.messagesIn && run.cpu.natsServer !== null ? fmt((1000 * (run.cpu.node + run.cpu.natsServer)) / run.messagesIn, 2) : '—',
      ])
  console.log(table(cpuRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']))
  if (contended) console.log('  ! other processes used > 0.1 CPU-s per wall second during that run: the numbers are contended, re-run on a quiet machine')

  for (const [name, run] of [...runs, ['persister drain', drain] as const]) {
    if (!run) continue
    console.log(`\n${name}: per actor (runtime metrics; backlog = pending + unacked over its durables)`)
    const actorRows = [
      ['actor', 'messages', 'skipped', 'handler ms', 'flush ms', 'batches', 'mean batch', 'max backlog', 'mean backlog', 'backlog at publish end'],
    ]
    for (const a of ACTOR_NAMES) {
      const s = run.actorStats[a]
      if (!s && !run.lag) continue
      actorRows.push([
        a,
        fmt(s?.messages),
        fmt(s?.skipped),
        fmt(s?.handleMs),
        fmt(s?.flushMs),
        fmt(s?.batches),
        fmt(s?.meanBatch, 1),
        fmt(run.lag?.maxByActor[a]),
        fmt(run.lag?.meanByActor[a]),
        fmt(run.lag?.atPublishEnd[a] ?? 0),
      ])
    }
    console.log(table(actorRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']))
    // What a bar costs in deliveries: every message an actor was handed (a router's copy, each
    // durable's own), and how many of them were only skipped.
    const handled = ACTOR_NAMES.reduce((n, a) => n + (run.actorStats[a]?.messages ?? 0), 0)
    const skipped = ACTOR_NAMES.reduce((n, a) => n + (run.actorStats[a]?.skipped ?? 0), 0)
    if (run.messagesIn && name !== 'persister drain')
      console.log(`  messages handled a bar: ${fmt(handled / run.messagesIn, 1)}, of which skipped unread ${fmt(skipped / run.messagesIn, 1)}`)
    if (run.lag) console.log(`  ${run.lag.samples} backlog samples; largest: ${run.lag.topDurables.map((d) => `${d.durable} ${d.max}`).join(', ')}`)
    const lookups = (source: string) => run.actorStats[`lookups from ${source}`]?.messages ?? 0
    if (lookups('memory') + lookups('stream'))
      console.log(`  bar lookups: ${fmt(lookups('memory'))} answered from memory, ${fmt(lookups('stream'))} read from the stream`)
  }

  const profiles: [string, ProfileSummary | undefined][] = [
    ['the 1-symbol pipeline run', p1?.profile],
    ['the persister drain', drain?.profile],
    ...latency.map((l): [string, ProfileSummary | undefined] => [`the latency run at ${l.rate}/s`, l.run.profile]),
    ['the backtest', backtest?.profile],
  ]
  for (const [what, p] of profiles) {
    if (!p) continue
    console.log(`\nCPU profile of ${what} (${fmt(p.sampledMs)} ms sampled; ${p.file}):`)
    console.log(table([['area', 'self ms', '%'], ...p.areas.slice(0, 12).map((a) => [a.area, fmt(a.selfMs), fmt(a.pct, 1)])], ['l', 'r', 'r']))
    console.log('')
    console.log(
      table([['function', 'where', 'self ms', '%'], ...p.topFunctions.map((f) => [f.fn, f.where, fmt(f.selfMs), fmt(f.pct, 1)])], ['l', 'l', 'r', 'r']),
    )
  }
  console.log(
    `\ndaemon log (LOG_LEVEL=warn): ${warnings} line(s) in ${LOG_FILE}${
      warnings
        ? ` — ${Object.entries(phaseWarnings)
            .map(([p, n]) => `${p}: ${n}`)
            .join('; ')}`
        : ''
    }`,
  )
  if (Object.keys(errors).length) console.log(`\nERRORS in: ${Object.keys(errors).join(', ')} (details in the JSON)`)
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)

let code = 1
try {
  code = await main()
} catch (err) {
  console.error(`bench: ${(err as Error).stack ?? err}`)
} finally {
  await Promise.allSettled([...active].map((c) => c.runAll()))
  await new Promise((resolve) => logStream.end(resolve))
}
// Anything still holding the event loop (a reconnecting client after a failure) must not keep us alive.
process.exit(interrupted ? 130 : code)
