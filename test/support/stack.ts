// A whole paperd for an integration test: its own nats-server, its own database, the daemon
// in-process with the chosen actors, and helpers to drive it like an operator would.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import postgres, { type Sql } from 'postgres'
import { ACTOR_NAMES, type ActorName } from '../../src/core/actor.js'
import { loadEnv, parseConfig } from '../../src/config/env.js'
import type { ConfigFile } from '../../src/core/config-file.js'
import { deploymentActors, startDaemon, type Daemon } from '../../src/app/daemon.js'
import { createLogger } from '../../src/telemetry/log.js'
import { expectedWork, waitForQuiescence } from '../../src/control/quiesce.js'
import { startNatsServer, type NatsServer } from './nats-server.js'
import { createTestDatabase, type TestDatabase } from './postgres.js'

/** Synthetic bars per symbol a test daemon warms up on (the default is 1,500). */
export const TEST_WARM_UP_BARS = '100'

export const CANONICAL = {
  accounts: [
    {
      id: 'main',
      starting_cash: 10000,
      costs: { commission_pct: 0.001, commission_per_share: 0, commission_min: 0, slippage_bps: 0 },
      risk: {
        ai_trading_enabled: true,
        min_confidence_threshold: 0,
        max_lot_size: 1000,
        max_concurrent_trades: 10,
        daily_profit_target: null,
        stop_after_target: false,
        max_drawdown_amount: null,
        halt_on_drawdown: false,
        allow_off_watchlist_autotrade: false,
      },
    },
  ],
  strategies: [
    {
      id: 'sma-cross',
      account: 'main',
      symbols: ['ORCL'],
      timeframe: '1d',
      indicators: { fast: { type: 'sma', period: 10 }, slow: { type: 'sma', period: 30 } },
      entry: { long: { crossesAbove: ['fast', 'slow'] } },
      exit: { long: { crossesBelow: ['fast', 'slow'] } },
      sizing: { fixed_qty: 100 },
    },
  ],
}

export interface Stack {
  nats: NatsServer
  db: TestDatabase
  sql: Sql
  config: ConfigFile
  daemon: Daemon | null
  /** Every daemon started, the first one included (a split deployment runs several). */
  daemons: Daemon[]
  /** A plain client, as an operator's `nats` CLI would be. */
  client: NatsConnection
  /** Starts a daemon in this process; `env` adds variables (PAPERD_PARTITIONS for a split deployment), `config` replaces the stack's (accounts split by config). */
  start(actors?: ActorName[], env?: Record<string, string>, config?: ConfigFile): Promise<Daemon>
  stopDaemon(): Promise<void>
  quiesce(timeoutMs?: number): Promise<void>
  /** The trades table as fills compare: bar date-time, side, qty, price, commission, in time order. */
  trades(): Promise<{ ts: string; side: string; qty: number; price: number; commission: number }[]>
  /** Runs the real CLI (`paperd …`) against this stack. */
  cli(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>
  close(): Promise<void>
}

export async function startStack(configJson: unknown = CANONICAL): Promise<Stack> {
  const nats = await startNatsServer()
  const db = await createTestDatabase()
  const sql = postgres(db.url, { onnotice: () => {}, max: 2 })
  const config = parseConfig(configJson)
  const client = await connect({ servers: nats.url })
  // The whole deployment of this config: quiescent only once every actor runs it all (a test that
  // starts the executor later, or restarts an actor, waits for it).
  const expected = expectedWork(deploymentActors(config), true)
  // A short warm-up (src/app/warm-up.ts): the path is taken on every start, at a tenth of its cost.
  const envVars = {
    NATS_URL: nats.url,
    DATABASE_URL: db.url,
    METRICS_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    PAPERD_WARM_UP_BARS: TEST_WARM_UP_BARS,
  }
  const stack: Stack = {
    nats,
    db,
    sql,
    config,
    client,
    daemon: null,
    daemons: [],
    async start(actors = [...ACTOR_NAMES], extra = {}, own = config) {
      const env = loadEnv({ ...envVars, ...extra })
      const daemon = await startDaemon({ env, actors, config: own, log: createLogger(env.logLevel), waitForNats: false })
      await daemon.live
      stack.daemons.push(daemon)
      stack.daemon ??= daemon
      return daemon
    },
    async stopDaemon() {
      await Promise.all(stack.daemons.map((d) => d.stop()))
      stack.daemons = []
      stack.daemon = null
    },
    async quiesce(timeoutMs = 60_000) {
      await waitForQuiescence(await jetstreamManager(client), { timeoutMs, deployment: { nc: client, expected } })
    },
    async trades() {
      const rows = await sql`select ts, side, qty::float8 as qty, price::float8 as price, commission::float8 as commission from trades order by ts`
      return rows.map((t) => ({ ts: t.ts.toISOString(), side: t.side, qty: t.qty, price: t.price, commission: t.commission }))
    },
    async cli(args, timeoutMs = 120_000) {
      try {
        const { stdout, stderr } = await promisify(execFile)('npx', ['tsx', 'src/cli.ts', ...args], {
          env: { ...process.env, ...envVars, LOG_LEVEL: 'warn' },
          timeout: timeoutMs,
        })
        return { code: 0, stdout, stderr }
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string }
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
      }
    },
    async close() {
      await stack.stopDaemon()
      await client.close()
      await sql.end({ timeout: 5 })
      await nats.stop()
      await db.drop()
    },
  }
  return stack
}
