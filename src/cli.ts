#!/usr/bin/env node
// The `paperd` command and the composition root: the only place that reads process.env, installs
// signal handlers and decides exit codes (0 ok, 1 failure, 2 bad usage or configuration).
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { dirname, resolve } from 'node:path'
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { ACCOUNT_PATTERN, IMPORT_FORMATS, SYMBOL_PATTERN, TIMEFRAME_PATTERN, TIMEFRAME_RULE } from './core/schemas.js'
import { ConfigError, loadConfigFile, loadEnv, parseActorList, parseConfig, type Env } from './config/env.js'
import { readBarColumns, readBarsFile, readContextFile } from './app/csv-files.js'
import { PROGRESS_EVERY, runBacktest, withBarObjects, type BacktestContext, type BacktestSeries } from './app/backtest.js'
import { CTL_COMMANDS } from './control/ctl.js'
import { accountReport, formatReport, RANK_METRICS, type RankMetric } from './app/backtest-report.js'
import { htmlReport } from './app/html-report.js'
import { VERSION } from './config/paths.js'
import type { Logger } from './telemetry/log.js'
import type { Expectation } from './control/quiesce.js'
import type { ImportFormat } from './app/import-formats.js'
import type { Report, SweepResult } from './app/sweep.js'
import type { connectNats } from './adapters/nats/connect.js'

// What a command needs besides the above is imported when it runs: the daemon, NATS, Postgres and
// the embedded servers take a third of a second to load, which `paperd backtest` (a few seconds end
// to end) and a `--help` would otherwise pay every time.
const SHUTDOWN_LIMIT_MS = 12_000

/** The command being parsed (for a usage error's pointer to its --help). */
let parsing: Command

// Usage errors are one line on stderr and exit code 2 (main prints them): commander throws instead
// of exiting, and writes nothing to stderr itself (no help after an error). --help and --version
// still print to stdout and exit 0.
const program = new Command()
  .name('paperd')
  .description('Paper-trading daemon: actors over NATS JetStream, books in Postgres, Prometheus metrics')
  .version(VERSION, '-V, --version', 'print the version')
  .exitOverride()
  .configureOutput({ writeErr: () => {}, outputError: () => {} })
  .hook('preSubcommand', (_, sub) => {
    parsing = sub
  })
parsing = program

program
  .command('start')
  .description('run actors (all of them by default) until SIGTERM/SIGINT')
  .option('--actors <list>', 'comma-separated actors to run in this process', 'all')
  .option('--config <file>', 'JSON config with accounts and strategies (or PAPERD_CONFIG)')
  .option('--partitions <list>', 'symbol partitions this process owns, e.g. 0-7 (or PAPERD_PARTITIONS; default all)')
  .option('--threads <n|auto>', 'worker threads to spread the actors over (or PAPERD_THREADS; default auto: 2 on a multi-core machine)')
  .action(async (o: { actors: string; config?: string; partitions?: string; threads?: string }) => {
    const [
      { createLogger, safeUrl },
      { EMBEDDED_POOL, startEmbeddedPostgres },
      { ensureLocalNats },
      { defaultThreads, groupActors, startThreads },
      { startDaemon },
      { DEMO_CONFIG, startDemoFeed },
    ] = await Promise.all([
      import('./telemetry/log.js'),
      import('./adapters/postgres/embedded.js'),
      import('./adapters/nats/local-server.js'),
      import('./app/threads.js'),
      import('./app/daemon.js'),
      import('./app/demo.js'),
    ])
    let env = loadEnv(process.env, { config: o.config, partitions: o.partitions, threads: o.threads }, process.stdout.isTTY === true)
    const actors = parseActorList(o.actors)
    const log = createLogger(env.logLevel, { format: env.logFormat })
    // A first run: no config → the bundled demo; no DATABASE_URL (and no --actors) → an embedded
    // Postgres under the data directory. An explicit --actors persister still needs DATABASE_URL.
    const demo = !env.configPath && o.actors === 'all'
    const config = env.configPath ? loadConfigFile(env.configPath) : demo ? parseConfig(DEMO_CONFIG) : undefined
    // Signals count from here on: a Ctrl-C while paperd is still starting waits for the step under
    // way, then stops what has started, in reverse order. (A nats-server paperd starts is in a
    // process group of its own, out of reach of the terminal's Ctrl-C: only paperd stops it.)
    const stops: (() => unknown)[] = []
    const signalled = shutdownSignals(log)
    let stopping = false
    void signalled.then(() => (stopping = true))
    const startup = (async () => {
      const embedded = !env.databaseUrl && o.actors === 'all' ? await startEmbeddedPostgres(env.dataDir, env.embeddedPgPort, log) : null
      if (embedded) {
        stops.push(() => embedded.stop())
        env = { ...env, databaseUrl: embedded.url, databasePool: EMBEDDED_POOL }
      }
      if (stopping) return
      log.info({ actors, nats: env.natsDisplay, database: env.databaseUrl ? safeUrl(env.databaseUrl) : null, metricsPort: env.metricsPort }, 'starting paperd')
      // Nothing answering at a local NATS_URL (a first run): start nats-server -js from PATH.
      const localNats = await ensureLocalNats(env.nats, env.dataDir, log)
      if (localNats) stops.push(() => localNats.stop())
      if (stopping) return
      const threads = env.threads === 'auto' ? defaultThreads(actors) : env.threads
      const daemon =
        threads > 1 ? await startThreads({ env, groups: groupActors(actors, threads), config, log }) : await startDaemon({ env, actors, config, log })
      stops.push(() => daemon.stop())
      if ('lost' in daemon) {
        void daemon.lost.then((err) => {
          log.fatal({ err: err.message }, 'a worker thread stopped; exiting so the supervisor restarts paperd')
          process.exit(1)
        })
      }
      if (daemon.http) log.info(`metrics on http://localhost:${daemon.http.port}/metrics`)
      if (demo) {
        if (await Promise.race([daemon.live.then(() => false), signalled.then(() => true)])) return
        const [{ connectNats }, { jetstream, jetstreamManager }] = await Promise.all([import('./adapters/nats/connect.js'), import('@nats-io/jetstream')])
        const demoNc = await connectNats(env.nats, 'paperd demo feed', log, false)
        stops.push(() => demoNc.close())
        stops.push(await startDemoFeed(jetstream(demoNc), await jetstreamManager(demoNc), log, env.demoIntervalMs))
      }
      if ((demo || embedded) && !stopping) {
        // Where to look, for someone who just typed the first command: plain shell lines on stderr,
        // to paste into another terminal (a log line would JSON-escape the quotes).
        const hints = [
          `watch it:  nats sub 'trade.>'`,
          `           nats req ctl.portfolio.get '{"account":"${config?.accounts[0]?.id ?? 'demo'}"}'`,
          ...(daemon.http ? [`metrics:   curl -s http://localhost:${daemon.http.port}/metrics`] : []),
          ...(embedded ? [`books:     psql ${embedded.url} -c 'select * from trades order by ts desc limit 10'`] : []),
        ]
        process.stderr.write(`${hints.join('\n')}\n`)
      }
    })()
    const stopAll = async () => {
      for (const stop of stops.reverse()) await stop()
    }
    try {
      // Run until a signal; a startup that fails first is this command's error.
      await Promise.race([startup.then(() => signalled), signalled])
    } catch (err) {
      await stopAll().catch(() => {})
      throw err
    }
    await startup.catch((err: unknown) => log.error({ err: (err as Error).message }, 'failed to start while stopping'))
    await stopAll()
  })

/**
 * SIGTERM and SIGINT handlers: the first resolves the promise (stop gracefully, within
 * SHUTDOWN_LIMIT_MS), a second exits at once.
 */
function shutdownSignals(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let signalled = false
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ sig }, 'second signal: exiting now')
        process.exit(1)
      }
      signalled = true
      log.info({ sig }, 'signal received')
      setTimeout(() => {
        log.error('shutdown took too long; exiting')
        process.exit(1)
      }, SHUTDOWN_LIMIT_MS).unref()
      resolve(sig)
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
}

program
  .command('migrate')
  .description('apply the SQL migrations in sql/ to DATABASE_URL (safe to run concurrently, a no-op when current)')
  .action(async () => {
    const env = loadEnv(process.env, {}, process.stderr.isTTY === true)
    if (!env.databaseUrl) throw new ConfigError('DATABASE_URL is not set')
    const [{ openDatabase }, { migrate }] = await Promise.all([import('./app/daemon.js'), import('./adapters/postgres/migrate.js')])
    const sql = openDatabase(env.databaseUrl)
    try {
      const { applied } = await migrate(sql, { log: (m) => console.log(m) })
      console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date')
    } finally {
      await sql.end({ timeout: 5 })
    }
  })

program
  .command('replay')
  .description('publish a CSV of bars on md.in.bar.<SYM> (Yahoo Date,Open,High,Low,Close,Adj Close,Volume or ts,open,high,low,close,volume)')
  .argument('<file>', 'CSV file')
  .requiredOption('--symbol <SYM>', 'symbol the bars belong to', symbolArg)
  .option('--timeframe <tf>', 'bar timeframe', timeframeArg, '1d')
  .option('--speed <max|N>', 'max, or N bars per second', speedArg, Infinity)
  .option('--wait', 'return only when every actor of the deployment has processed everything (including the persister commit); exit 1 at --timeout')
  .option('--timeout <seconds>', 'give up waiting after this long', positiveNumber, 600)
  .option('--config <file>', "with --wait: the deployment's config (or PAPERD_CONFIG), so every account's and strategy's scopes are waited for")
  .action(async (file: string, o: { symbol: string; timeframe: string; speed: number; wait?: boolean; timeout: number; config?: string }) => {
    const env = loadEnv(process.env, { config: o.config }, process.stderr.isTTY === true)
    const log = await commandLogger(env, env.logLevel === 'info' ? 'warn' : env.logLevel)
    const expected = o.wait ? await deploymentWork(env.configPath) : null
    const { bars } = readBarsFile(file)
    const [{ connectNats }, { jetstreamManager }, { ensureStreams, whileUnavailable }, { replayBars }, { describeWaiting, onlyBacklog, waitForQuiescence }] =
      await Promise.all([
        import('./adapters/nats/connect.js'),
        import('@nats-io/jetstream'),
        import('./runtime/topology.js'),
        import('./app/replay.js'),
        import('./control/quiesce.js'),
      ])
    const nc = await connectNats(env.nats, 'paperd replay', log, false).catch((err: Error) => {
      throw new Error(`cannot reach NATS at ${env.natsDisplay}: ${err.message}`)
    })
    try {
      const jsm = await whileUnavailable(() => jetstreamManager(nc))
      await ensureStreams(jsm, env.streamReplicas)
      const progress = await bar(`${o.symbol} bars`, bars.length)
      const abort = new AbortController()
      process.once('SIGINT', () => abort.abort())
      const result = await replayBars(nc, bars, {
        symbol: o.symbol,
        timeframe: o.timeframe,
        speed: o.speed,
        signal: abort.signal,
        onProgress: (n) => progress.update(n),
      })
      progress.stop()
      console.error(`published ${result.published} bars of ${o.symbol} (${result.duplicates} already stored)`)
      if (expected) {
        const waiting = await bar('processing', 1)
        let peak = 1
        let said = ''
        try {
          await waitForQuiescence(jsm, {
            timeoutMs: o.timeout * 1000,
            deployment: { nc, expected },
            onProgress: (b, left) => {
              peak = Math.max(peak, b.total)
              waiting.setTotal(peak)
              waiting.update(peak - b.total)
              // What keeps it from counting down (an actor not running, a scope rebuilding), once per change.
              const blocked = onlyBacklog(left) ? '' : describeWaiting(left.filter((w) => !onlyBacklog([w])).map((w) => ({ ...w, busy: {} })))
              if (blocked !== said) waiting.note(blocked && `waiting for ${blocked}`)
              said = blocked
            },
          })
        } finally {
          waiting.stop()
        }
        console.error('every actor has processed everything')
      }
    } finally {
      await nc.drain()
    }
  })

program
  .command('import')
  .description("bring a legacy system's trades and portfolios in, through NATS for the persister (importing twice stores everything once)")
  .argument('<file>', "trader-ai's SQLite database, bumpy-croc's migration_export.json, a prescient portfolio JSON, or a trades CSV")
  .option('--format <format>', `one of ${IMPORT_FORMATS.join(', ')} (default: told by the file)`, formatArg)
  .option('--account <id>', 'the paperd account the records go to (default: trader-ai, bumpy-croc, prescient or imported)', accountArg)
  .option('--dry-run', 'read and check the file, say what would be imported, publish nothing')
  .option('--timeout <seconds>', 'how long to wait for the persister to store them', positiveNumber, 120)
  .action(async (file: string, o: { format?: ImportFormat; account?: string; dryRun?: boolean; timeout: number }) => {
    let data: Uint8Array
    try {
      data = readFileSync(file)
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    const { DEFAULT_ACCOUNT, detectFormat, readImport } = await import('./app/import-formats.js')
    let format: ImportFormat
    let read: Awaited<ReturnType<typeof readImport>>
    try {
      format = o.format ?? detectFormat(data, file)
      read = await readImport(data, format, o.account ?? DEFAULT_ACCOUNT[format])
    } catch (err) {
      throw new ConfigError(`${file}: ${(err as Error).message.replace(`${file}: `, '')}`)
    }
    const account = o.account ?? DEFAULT_ACCOUNT[format]
    for (const s of read.skipped) console.error(`skipped ${s.record}: ${s.reason}`)
    const trades = read.messages.filter((m) => m.type === 'import.trade').length
    const snapshots = read.messages.length - trades
    console.error(
      `${file}: ${format}, ${trades} fills and ${snapshots} portfolio snapshots for account ${account}${read.skipped.length ? `, ${read.skipped.length} records skipped` : ''}`,
    )
    if (o.dryRun) return
    const [{ jetstreamManager }, { ensureStreams, whileUnavailable }, { publishImport, waitForImport }] = await Promise.all([
      import('@nats-io/jetstream'),
      import('./runtime/topology.js'),
      import('./app/import.js'),
    ])
    await withNats('paperd import', async (nc) => {
      const jsm = await whileUnavailable(() => jetstreamManager(nc))
      await ensureStreams(jsm, loadEnv(process.env).streamReplicas)
      const progress = await bar('records', read.messages.length)
      const result = await publishImport(nc, read.messages, (n) => progress.update(n))
      progress.stop()
      console.error(`published ${result.published} (${result.duplicates} already there)`)
      const stored = await waitForImport(jsm, o.timeout * 1000)
      if (stored === 'done') console.error('the persister has stored them')
      else if (stored === 'absent') console.error('no persister has run on this NATS yet: the rows are written when one starts')
      else throw new Error(`the persister has not stored them after ${o.timeout} s (is it running? paperd status)`)
    })
    if (read.skipped.length) process.exitCode = 1
  })

program
  .command('backtest')
  .description('run the same actors in this process over CSV files (no NATS, no Postgres) and print a report')
  .requiredOption('--config <file>', 'JSON config with accounts and strategies')
  .requiredOption('--data <FILE:SYM[:TF]>', 'a CSV of bars and its symbol (timeframe defaults to --timeframe); repeat for more symbols', collect)
  .option('--timeframe <tf>', 'timeframe of the bars', timeframeArg, '1d')
  .option(
    '--context <FILE:SYM>',
    'a CSV of Phase-5 NarrativeGap inputs (ts,consensus_forecast,distribution_estimate) for a symbol, as md.in.context carries them; repeatable',
    collect,
  )
  .option('--out <file>', 'write the report as JSON (with every fill, final_cash and final_equity)')
  .option('--html <file>', 'write the report as one self-contained page: charts, trades, buy-and-hold (opens offline)')
  .option(
    '--grid <NAME=FROM:TO:STEP>',
    "sweep a parameter: an indicator's period by its name (fast=5:20:5), or a path in the strategies (exit.stop_loss.pct=0.02:0.1:0.02); repeatable",
    collect,
  )
  .option('--rank <metric>', `rank a sweep by ${RANK_METRICS.join(', ')}`, rankArg, 'sharpe')
  .option('--account <id>', 'the account a sweep is ranked by (default: the first)', accountArg)
  .option('--walk-forward <K>', 'with --grid: K folds, each choosing on one window of the bars and testing on the next', positiveInteger)
  .option('--threads <n>', 'worker threads of a sweep (default: the cores)', positiveInteger)
  .action(async (o: BacktestOptions) => {
    if (o.out) writableDir('--out', o.out)
    if (o.html) writableDir('--html', o.html)
    const config = loadConfigFile(o.config)
    const inputs = o.data.map((spec) => dataArg(spec, o.timeframe))
    if (o.grid && o.html) throw new ConfigError('--html reports one backtest: drop --grid, or use --out for the sweep')
    if (o.grid) return sweep(o, config, inputs)
    if (o.walkForward) throw new ConfigError('--walk-forward needs --grid: the parameters each fold chooses from')
    const contexts = (o.context ?? []).flatMap(contextArg)
    const total = inputs.reduce((n, i) => n + i.bars.length, 0)
    const progress = total > 4 * PROGRESS_EVERY ? await bar('bars', total) : undefined
    const t0 = performance.now()
    const run = await runBacktest(config, inputs, { contexts, points: true, ...(progress ? { onProgress: (n: number) => progress.update(n) } : {}) })
    const seconds = (performance.now() - t0) / 1000
    progress?.update(total)
    progress?.stop()
    if (run.refused.length)
      console.error(
        `refused ${run.refused.length} bar(s) the daemon would dead-letter, first: ${run.refused[0]!.symbol} ${run.refused[0]!.ts}: ${run.refused[0]!.reason}`,
      )
    const reports = config.accounts.map((a) => accountReport(run, a, o.timeframe))
    for (const r of reports) console.log(`${formatReport(r, run.bars, seconds)}\n`)
    if (o.html) {
      const title = `paperd backtest: ${o.config}, ${inputs.map((i) => `${i.symbol} ${i.timeframe}`).join(', ')}`
      writeFileSync(o.html, htmlReport(run, config, inputs.map(withBarObjects), reports, title))
      console.error(`page written to ${o.html}`)
    }
    if (o.out) {
      const body = reports.length === 1 ? { ...reports[0], bars: run.bars, seconds } : { accounts: reports, bars: run.bars, seconds }
      writeFileSync(o.out, `${JSON.stringify(body, null, 2)}\n`)
      console.error(`report written to ${o.out}`)
    }
  })

interface BacktestOptions {
  config: string
  data: string[]
  context?: string[]
  timeframe: string
  out?: string
  html?: string
  grid?: string[]
  rank: RankMetric
  account?: string
  walkForward?: number
  threads?: number
}

/** `backtest --grid …`: every combination on worker threads, ranked; with --walk-forward, chosen and tested fold by fold. */
async function sweep(o: BacktestOptions, config: ReturnType<typeof loadConfigFile>, series: BacktestSeries[]): Promise<void> {
  // A plain sweep hands each worker the bars as columns (copied once, run as a CSV backtest runs);
  // walk-forward cuts them into windows, as objects.
  const objects = o.walkForward ? series.map(withBarObjects) : undefined
  const inputs: BacktestSeries[] = objects ?? series
  if (o.context?.length) throw new ConfigError('--context is not swept yet: run the sweep without it')
  const { combinations, parseGrid, ranked, runConfigs, window, windowStarts, withParams } = await import('./app/sweep.js')
  const raw = JSON.parse(readFileSync(o.config, 'utf8')) as Record<string, unknown>
  let grids: ReturnType<typeof parseGrid>[]
  let combos: ReturnType<typeof combinations>
  let configs: ReturnType<typeof withParams>[]
  try {
    grids = o.grid!.map(parseGrid)
    combos = combinations(grids)
    configs = combos.map((p) => withParams(raw, p))
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const accountIndex = o.account ? config.accounts.findIndex((a) => a.id === o.account) : 0
  if (accountIndex < 0) throw new ConfigError(`--account ${o.account}: not an account of ${o.config}`)
  const names = grids.map((g) => g.name)
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`)
  const fixed = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(2))
  const row = (params: Record<string, number>, r: Report) => [
    ...names.map((n) => String(params[n])),
    pct(r.total_return),
    fixed(r.sharpe),
    fixed(r.sortino),
    pct(r.max_drawdown),
    pct(r.win_rate),
    String(r.trades),
    r.final_equity.toFixed(2),
  ]
  const head = [...names, 'return', 'sharpe', 'sortino', 'max dd', 'win rate', 'trades', 'final equity']
  const t0 = performance.now()
  if (!o.walkForward) {
    const progress = await bar(`${combos.length} combinations`, combos.length)
    const reports = await runConfigs(configs, { inputs, timeframe: o.timeframe }, { threads: o.threads, onProgress: (n) => progress.update(n) })
    progress.stop()
    const results: SweepResult[] = combos.map((params, i) => ({ params, reports: reports[i]! }))
    const best = ranked(results, o.rank, accountIndex)
    console.log(
      `${combos.length} combinations of ${names.join(', ')} over ${inputs.reduce((a, i) => a + i.bars.length, 0)} bars, account ${config.accounts[accountIndex]!.id}, ranked by ${o.rank} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
    )
    console.log(
      columns(
        ['#', ...head],
        best.map((r, i) => [String(i + 1), ...row(r.params, r.reports[accountIndex]!)]),
      ),
    )
    if (o.out) {
      writeFileSync(
        o.out,
        `${JSON.stringify({ rank: o.rank, account: config.accounts[accountIndex]!.id, results: best.map((r) => ({ params: r.params, reports: r.reports.map(({ fills: _, ...rest }) => rest) })) }, null, 2)}\n`,
      )
      console.error(`results written to ${o.out}`)
    }
    return
  }
  const starts = (() => {
    try {
      return windowStarts(objects!, o.walkForward!)
    } catch (err) {
      throw new ConfigError((err as Error).message)
    }
  })()
  const progress = await bar(`${o.walkForward} folds × ${combos.length} combinations`, o.walkForward * (combos.length + 1))
  const folds: { train: [string, string]; test: [string, string | null]; params: Record<string, number>; trained: Report; tested: Report }[] = []
  for (let f = 1; f <= o.walkForward; f++) {
    const train = window(objects!, starts[f - 1]!, starts[f]!)
    const test = window(objects!, starts[f]!, starts[f + 1] ?? null)
    const done = (f - 1) * (combos.length + 1)
    const reports = await runConfigs(configs, { inputs: train, timeframe: o.timeframe }, { threads: o.threads, onProgress: (n) => progress.update(done + n) })
    const best = ranked(
      combos.map((params, i) => ({ params, reports: reports[i]! })),
      o.rank,
      accountIndex,
    )[0]!
    const [tested] = await runConfigs([withParams(raw, best.params)], { inputs: test, timeframe: o.timeframe })
    progress.update(done + combos.length + 1)
    folds.push({
      train: [starts[f - 1]!, starts[f]!],
      test: [starts[f]!, starts[f + 1] ?? null],
      params: best.params,
      trained: best.reports[accountIndex]!,
      tested: tested![accountIndex]!,
    })
  }
  progress.stop()
  console.log(
    `walk-forward: ${o.walkForward} folds, each choosing by ${o.rank} on one window and testing on the next (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  )
  console.log(
    columns(
      ['fold', 'chosen on', 'tested on', ...names, `${o.rank} chosen`, `${o.rank} tested`, 'return tested', 'trades tested'],
      folds.map((x, i) => [
        String(i + 1),
        `${x.train[0].slice(0, 10)}…${x.train[1].slice(0, 10)}`,
        `${x.test[0].slice(0, 10)}…${x.test[1]?.slice(0, 10) ?? 'end'}`,
        ...names.map((n) => String(x.params[n])),
        fixed(x.trained[o.rank] as number | null),
        fixed(x.tested[o.rank] as number | null),
        pct(x.tested.total_return),
        String(x.tested.trades),
      ]),
    ),
  )
  if (o.out) {
    writeFileSync(
      o.out,
      `${JSON.stringify({ rank: o.rank, folds: folds.map(({ trained, tested, ...f }) => ({ ...f, trained: { ...trained, fills: undefined }, tested: { ...tested, fills: undefined } })) }, null, 2)}\n`,
    )
    console.error(`results written to ${o.out}`)
  }
}

/** Rows as aligned columns, numbers right-aligned. */
function columns(head: string[], rows: string[][]): string {
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)))
  const numeric = (c: string) => /^[-\d.%—]+$/.test(c)
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => (numeric(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

program
  .command('report')
  .description("a live account's report from Postgres: the backtest's numbers, and with --html its page")
  .requiredOption('--account <id>', 'the account', accountArg)
  .option('--html <file>', 'write the page (charts, trades, buy-and-hold; opens offline)')
  .option('--json', 'print the numbers as JSON')
  .action(async (o: { account: string; html?: string; json?: boolean }) => {
    if (o.html) writableDir('--html', o.html)
    const env = loadEnv(process.env, {}, process.stderr.isTTY === true)
    if (!env.databaseUrl) throw new ConfigError('paperd report reads Postgres: set DATABASE_URL (postgres://user:pass@host:5432/db)')
    const [{ openDatabase }, { readLiveRun }] = await Promise.all([import('./app/daemon.js'), import('./app/live-report.js')])
    const sql = openDatabase(env.databaseUrl, 1)
    try {
      let live: Awaited<ReturnType<typeof readLiveRun>>
      try {
        live = await readLiveRun(sql, o.account)
      } catch (err) {
        if (/^no account /.test((err as Error).message)) throw new ConfigError((err as Error).message)
        throw err
      }
      const report = accountReport(live.run, live.account, live.timeframe)
      if (o.json) console.log(JSON.stringify(report, null, 2))
      else console.log(formatReport(report, live.run.times.length, 0))
      if (o.html) {
        const title = `paperd report: account ${o.account}, ${live.inputs.map((i) => `${i.symbol} ${i.timeframe}`).join(', ') || 'no trades'}`
        writeFileSync(o.html, htmlReport(live.run, { accounts: [live.account], strategies: [] }, live.inputs, [report], title))
        console.error(`page written to ${o.html}`)
      }
    } finally {
      await sql.end({ timeout: 5 })
    }
  })

program
  .command('status')
  .description("actors and their instances, consumer lag, and each account's halt state and books (asked over NATS)")
  .option('--json', 'print the report as JSON')
  .option('--config <file>', "the deployment's config (or PAPERD_CONFIG), to name every account's scopes no instance runs")
  .action(async (o: { json?: boolean; config?: string }) => {
    const expected = await deploymentWork(loadEnv(process.env, { config: o.config }).configPath)
    const [{ jetstreamManager }, { formatStatus, statusReport }] = await Promise.all([import('@nats-io/jetstream'), import('./control/status.js')])
    await withNats('paperd status', async (nc) => {
      const report = await statusReport(nc, await jetstreamManager(nc), expected)
      console.log(o.json ? JSON.stringify(report, null, 2) : formatStatus(report))
    })
  })

const dlq = program
  .command('dlq')
  .description('dead letters: refused messages with the reason, from the DLQ stream')
  .hook('preSubcommand', (_, sub) => {
    parsing = sub
  })

dlq
  .command('list')
  .description('list dead letters, oldest first')
  .option('--actor <name>', 'only those one actor refused')
  .option('--json', 'print them as JSON (with payloads)')
  .action(async (o: { actor?: string; json?: boolean }) => {
    const { listDeadLetters } = await import('./control/dlq.js')
    await withNats('paperd dlq', async (nc) => {
      const letters = await listDeadLetters(nc, { actor: o.actor })
      if (o.json) return console.log(JSON.stringify(letters, null, 2))
      for (const d of letters) console.log(`${d.ts}  ${d.actor}  ${d.subject}  ${d.id}\n    ${d.reason}`)
      console.error(`${letters.length} dead letter(s)`)
    })
  })

dlq
  .command('replay')
  .description('publish dead letters again on their original subjects (after a fix)')
  .option('--actor <name>', 'only those one actor refused')
  .option('--id <id...>', 'only these dead letters')
  .action(async (o: { actor?: string; id?: string[] }) => {
    const [{ listDeadLetters, replayDeadLetters }, { jetstream }] = await Promise.all([import('./control/dlq.js'), import('@nats-io/jetstream')])
    await withNats('paperd dlq', async (nc) => {
      const js = jetstream(nc)
      let letters = await listDeadLetters(nc, { actor: o.actor })
      if (o.id) {
        const unknown = o.id.filter((id) => !letters.some((d) => d.id === id))
        if (unknown.length) throw new ConfigError(`no dead letter ${unknown.join(', ')}`)
        letters = letters.filter((d) => o.id!.includes(d.id))
      }
      const { replayed, skipped } = await replayDeadLetters(js, letters)
      for (const s of skipped) console.error(`skipped ${s.id}: ${s.why}`)
      console.error(`replayed ${replayed} dead letter(s)`)
    })
  })

/** Usage errors name the command being parsed, down to the last word (`paperd ctl risk set`). */
const tracked = (cmd: Command): Command =>
  cmd.hook('preSubcommand', (_, sub) => {
    parsing = sub
  })
const ctl = tracked(
  program
    .command('ctl')
    .description('control requests as commands: halt, resume, approve, reject, pending, close, cancel, portfolio, risk get|set, strategies …'),
)
// Groups (`risk`, `strategies`) hold their verbs; the rest are commands of their own.
const ctlGroups = new Map<string, Command>()
for (const c of CTL_COMMANDS) {
  let parent = ctl
  if (c.words.length > 1) {
    const group = c.words[0]!
    if (!ctlGroups.has(group))
      ctlGroups.set(
        group,
        ctl.command(group).description(
          `${group} ${CTL_COMMANDS.filter((x) => x.words[0] === group)
            .map((x) => x.words[1])
            .join('|')}`,
        ),
      )
    parent = ctlGroups.get(group)!
  }
  const cmd = parent.command(c.words.at(-1)!).description(`${c.description} (${c.subject})`).argument('<account>', 'the account', accountArg)
  for (const a of c.args) cmd.argument(`<${a}>`)
  if (c.by) cmd.option('--by <name>', 'who asks (recorded in the audit trail); default: your user name', whoAmI())
  if (c.reason === 'required') cmd.requiredOption('--reason <text>', 'why')
  if (c.reason === 'optional') cmd.option('--reason <text>', 'why')
  cmd
    .option('--json', "print the control plane's reply as it came")
    .option('--timeout <seconds>', 'how long to wait for the answer', positiveNumber, 20)
    .action(async (account: string, ...rest: unknown[]) => {
      const o = rest[c.args.length] as { by?: string; reason?: string; json?: boolean; timeout: number }
      const args = c.args.flatMap((_, i) => rest[i] as string | string[])
      let body: Record<string, unknown>
      try {
        body = { ...c.body(account, args), ...(c.by ? { by: o.by } : {}), ...(o.reason !== undefined ? { reason: o.reason } : {}) }
      } catch (err) {
        throw new ConfigError((err as Error).message)
      }
      await withNats(`paperd ctl ${c.words.join(' ')}`, async (nc) => {
        const reply = (await nc.request(c.subject, JSON.stringify(body), { timeout: o.timeout * 1000 })).json<Record<string, unknown> & { ok: boolean }>()
        if (o.json) console.log(JSON.stringify(reply, null, 2))
        else if (reply.ok) console.log(c.show(reply))
        if (!reply.ok) {
          if (!o.json) console.error(`paperd: ${String(reply.error)}`)
          process.exitCode = 1
        }
      })
    })
}

/** The user running the command (a container without a passwd entry has none: "operator"). */
function whoAmI(): string {
  try {
    return userInfo().username || 'operator'
  } catch {
    return 'operator'
  }
}

/** The log of a one-shot command: on stderr, since stdout is the command's output. */
async function commandLogger(env: Env, level: string): Promise<Logger> {
  const { createLogger } = await import('./telemetry/log.js')
  return createLogger(level, { fd: 2, format: env.logFormat })
}

/**
 * The work of the deployment: every scope of every actor its config gives. Without a config, the
 * scopes every deployment has (market-snapshots, the partitions of indicators and strategy, the
 * persister) and every scope a running instance owns, with all six actors required.
 */
async function deploymentWork(configPath: string | undefined): Promise<Expectation> {
  const [{ deploymentActors }, { expectedWork }] = await Promise.all([import('./app/daemon.js'), import('./control/quiesce.js')])
  return expectedWork(deploymentActors(configPath ? loadConfigFile(configPath) : undefined), configPath !== undefined)
}

/** Runs `fn` with a NATS connection from the environment, closed afterwards. */
async function withNats(name: string, fn: (nc: Awaited<ReturnType<typeof connectNats>>) => Promise<void>): Promise<void> {
  const env = loadEnv(process.env, {}, process.stderr.isTTY === true)
  const { connectNats } = await import('./adapters/nats/connect.js')
  const nc = await connectNats(env.nats, name, await commandLogger(env, 'warn'), false).catch((err: Error) => {
    throw new Error(`cannot reach NATS at ${env.natsDisplay}: ${err.message}`)
  })
  try {
    await fn(nc)
  } finally {
    await nc.close()
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** An output file's directory must exist and be writable: said before a long run, not after it. */
function writableDir(option: string, file: string): void {
  try {
    accessSync(dirname(resolve(file)), constants.W_OK)
  } catch (err) {
    throw new ConfigError(`${option} ${file}: cannot write there: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

function dataArg(spec: string, timeframe: string): BacktestSeries {
  const m = /^(.+?):([A-Z0-9_-]{1,32})(?::([1-9][0-9]{0,3}(?:s|m|h|d|w)))?$/.exec(spec)
  if (!m) throw new ConfigError(`--data ${spec}: expected FILE:SYMBOL or FILE:SYMBOL:TIMEFRAME (symbols are A-Z 0-9 _ -)`)
  const { bars } = readBarColumns(m[1]!)
  return { symbol: m[2]!, timeframe: m[3] ?? timeframe, bars }
}

function contextArg(spec: string): BacktestContext[] {
  const m = /^(.+?):([A-Z0-9_-]{1,32})$/.exec(spec)
  if (!m) throw new ConfigError(`--context ${spec}: expected FILE:SYMBOL (symbols are A-Z 0-9 _ -)`)
  return readContextFile(m[1]!).map((c) => ({ symbol: m[2]!, ...c }))
}

/** A progress bar on a terminal; silent otherwise (logs and CI output stay clean) but for notes, which become lines. */
async function bar(label: string, total: number) {
  if (!process.stderr.isTTY)
    return { update: (_: number) => {}, setTotal: (_: number) => {}, note: (text: string) => text && console.error(text), stop: () => {} }
  const { SingleBar, Presets } = await import('cli-progress')
  const b = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {percentage}% {eta_formatted} {note}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  )
  b.start(total, 0, { note: '' })
  return {
    update: (n: number) => b.update(n),
    setTotal: (n: number) => b.setTotal(n),
    note: (text: string) => b.update({ note: text.slice(0, Math.max(0, (process.stderr.columns ?? 80) - label.length - 50)) }),
    stop: () => b.stop(),
  }
}

function formatArg(v: string): ImportFormat {
  if (!(IMPORT_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`one of ${IMPORT_FORMATS.join(', ')}`)
  return v as ImportFormat
}
function accountArg(v: string): string {
  if (!new RegExp(ACCOUNT_PATTERN).test(v)) throw new InvalidArgumentError('accounts are a-z 0-9 _ - up to 32')
  return v
}
function rankArg(v: string): RankMetric {
  if (!(RANK_METRICS as readonly string[]).includes(v)) throw new InvalidArgumentError(`one of ${RANK_METRICS.join(', ')}`)
  return v as RankMetric
}
function positiveInteger(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number from 1')
  return n
}
function symbolArg(v: string): string {
  if (!new RegExp(SYMBOL_PATTERN).test(v)) throw new InvalidArgumentError('symbols are A-Z 0-9 _ - up to 32 (write BRK.B as BRK-B)')
  return v
}
function timeframeArg(v: string): string {
  if (!new RegExp(TIMEFRAME_PATTERN).test(v)) throw new InvalidArgumentError(TIMEFRAME_RULE)
  return v
}
function speedArg(v: string): number {
  if (v === 'max') return Infinity
  const n = Number(v)
  if (!(n > 0)) throw new InvalidArgumentError('max or a positive number of bars per second')
  return n
}
function positiveNumber(v: string): number {
  const n = Number(v)
  if (!(n > 0)) throw new InvalidArgumentError('a positive number')
  return n
}

/** `paperd start: unknown option '--nope' (paperd start --help)`: commander's message, on one line. */
function usageLine(err: CommanderError): string {
  const path = commandPath(parsing)
  if (err.code === 'commander.help') {
    // A command that needs a subcommand was given none (commander would print the whole help).
    return `${path}: missing command: ${parsing.commands.map((c) => c.name()).join(', ')} (${path} --help)`
  }
  const message = err.message
    .replace(/^error: /, '')
    .replace(/\s*\n\(Did you mean (.*)\?\)/, '; did you mean $1?')
    .replace(/\s*\n\s*/g, ' ')
  return `${path}: ${message} (${path} --help)`
}

function commandPath(cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv)
    // A command that finished with a problem to report (paperd import skipping records) set it.
    process.exit(process.exitCode ?? 0)
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; everything else is a usage error.
      if (err.exitCode === 0) process.exit(0)
      console.error(usageLine(err))
      process.exit(2)
    }
    const e = err as Error
    console.error(`paperd: ${e.message.replace(/\s*\n\s*/g, ' ')}`)
    process.exit(e instanceof ConfigError ? 2 : 1)
  }
}

await main(process.argv)
