// Configuration: the environment (parsed once, here and nowhere else) and the JSON config file.
// Any problem becomes a ConfigError with one readable line; the CLI prints it and exits non-zero.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { ACTOR_NAMES, type ActorName } from '../core/actor.js'
import { ConfigFileSchema, type ConfigFile } from '../core/config-file.js'
import { parseDatabaseTls } from './db-tls.js'
import { DEFAULT_PARTITIONS, parsePartitionList } from '../core/partition.js'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const LOG_FORMATS = ['auto', 'json', 'pretty'] as const
export type LogFormat = 'json' | 'pretty'

/** A file path; empty counts as unset (compose files often pass `VAR: ${VAR:-}`). */
const optionalPath = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined))
/** A TCP port; empty counts as unset too (rather than coercing to 0, "any free port"). */
const optionalPort = z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional())

/** A credential; empty counts as unset. */
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined))
/** A provider's base URL (http or https); empty counts as unset. */
const optionalUrl = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL')
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
)

const Env = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  NATS_CREDS: optionalPath,
  NATS_TLS_CA: optionalPath,
  NATS_TLS_CERT: optionalPath,
  NATS_TLS_KEY: optionalPath,
  DATABASE_URL: z.string().optional(),
  PAPERD_CONFIG: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(LOG_FORMATS).default('auto'),
  METRICS_PORT: optionalPort,
  // Railway (and Heroku-style platforms) say which port to serve, and health-check, in PORT.
  PORT: optionalPort,
  PAPERD_PARTITIONS: z.string().optional(),
  PAPERD_THREADS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).default('auto'),
  PAPERD_DATA_DIR: z.string().min(1).default('./data'),
  PAPERD_DEMO_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  PAPERD_PG_PORT: z.coerce.number().int().min(0).max(65535).default(54329),
  PAPERD_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  PAPERD_LEASE_TTL_MS: z.coerce.number().int().min(1000).max(600_000).default(5000),
  PAPERD_WARM_UP_BARS: z.coerce.number().int().min(0).max(100_000).default(1500),
  PAPERD_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64')
    .optional(),
  // Market-data providers (config `feeds`): their usual variables, and a base URL each may override.
  APCA_API_KEY_ID: optionalSecret,
  APCA_API_SECRET_KEY: optionalSecret,
  APCA_API_DATA_URL: optionalUrl,
  TIINGO_API_TOKEN: optionalSecret,
  TIINGO_API_URL: optionalUrl,
  FRED_API_KEY: optionalSecret,
  FRED_API_URL: optionalUrl,
  FINNHUB_API_KEY: optionalSecret,
  FINNHUB_API_URL: optionalUrl,
})

/** How to reach NATS: plain data (it is handed to worker threads), files by path, never their contents. */
export interface NatsOptions {
  servers: string[]
  token?: string
  user?: string
  pass?: string
  /** A .creds file (user JWT + NKEY seed): NATS_CREDS. Read at each (re)connect, so it can be rotated in place. */
  credsFile?: string
  /** Present = TLS required. Files: NATS_TLS_CA (trust), NATS_TLS_CERT + NATS_TLS_KEY (client certificate). */
  tls?: { caFile?: string; certFile?: string; keyFile?: string }
}

export interface Env {
  nats: NatsOptions
  /** The NATS URL with any credentials masked, for logs and messages. */
  natsDisplay: string
  databaseUrl: string | undefined
  /** Connections in the persister's pool (1 for the embedded database). */
  databasePool?: number
  configPath: string | undefined
  logLevel: (typeof LOG_LEVELS)[number]
  /** pino JSON lines, or one readable line per entry for a person at a terminal: LOG_FORMAT. */
  logFormat: LogFormat
  /** Port of /metrics, /healthz, /readyz: METRICS_PORT, else PORT, else 9464. */
  metricsPort: number
  partitions: number
  ownedPartitions: number[]
  /** Worker threads for `paperd start`: a number, or auto (defaultThreads: the account actors on a second thread). */
  threads: number | 'auto'
  /** Where paperd keeps local data of a first run (a local nats-server's store): PAPERD_DATA_DIR. */
  dataDir: string
  /** Port of the embedded Postgres of a run without DATABASE_URL: PAPERD_PG_PORT. */
  embeddedPgPort: number
  /** How often the bundled demo (no config) feeds a bar per symbol: PAPERD_DEMO_INTERVAL_MS. */
  demoIntervalMs: number
  /**
   * How long a scope's lease lives without renewal: a dead instance's scopes move after about this
   * long (PAPERD_LEASE_TTL_MS). The lease bucket's TTL: the first instance to create it sets it.
   */
  leaseTtlMs: number
  /**
   * Synthetic bars per symbol (up to four symbols of the config's strategies) each thread runs
   * through its handlers, the codec and the NATS client before it consumes (PAPERD_WARM_UP_BARS;
   * 0: none), so the first live bars find that code compiled (src/app/warm-up.ts).
   */
  warmUpBars: number
  /** Copies of every stream and KV bucket on a JetStream cluster (PAPERD_STREAM_REPLICAS; 3 in production). */
  streamReplicas: number
  /** This instance's id among those running the same actors (PAPERD_INSTANCE_ID); absent: a random one per start. */
  instanceId: string | undefined
  /** Market-data providers' credentials and base URLs (config `feeds`). */
  providers: ProviderSettings
}

/** Credentials by provider (absent when not set) and base URLs (the provider's own unless overridden). */
export interface ProviderSettings {
  alpaca: { keyId?: string; secretKey?: string; dataUrl: string }
  tiingo: { token?: string; url: string }
  fred: { apiKey?: string; url: string }
  finnhub: { apiKey?: string; url: string }
}

export const DEFAULT_METRICS_PORT = 9464

/**
 * Reads the environment once. `overrides` are CLI flags, which win over variables; `tty` says whether
 * the logs go to a terminal (LOG_FORMAT=auto is then pretty, JSON otherwise).
 */
export function loadEnv(env: NodeJS.ProcessEnv, overrides: { config?: string; partitions?: string; threads?: string } = {}, tty = false): Env {
  const parsed = Env.safeParse(overrides.threads === undefined ? env : { ...env, PAPERD_THREADS: overrides.threads })
  if (!parsed.success) {
    // A bad --threads is the flag's fault, not the variable's.
    const flag = overrides.threads !== undefined && parsed.error.issues[0]!.path[0] === 'PAPERD_THREADS'
    throw new ConfigError(flag ? `--threads ${overrides.threads}: expected auto or a whole number from 1 to 64` : oneLine('environment', parsed.error))
  }
  const e = parsed.data
  const partitionSpec = overrides.partitions ?? e.PAPERD_PARTITIONS
  let ownedPartitions: number[]
  try {
    ownedPartitions = partitionSpec ? parsePartitionList(partitionSpec, DEFAULT_PARTITIONS) : [...Array(DEFAULT_PARTITIONS).keys()]
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const nats = parseNatsUrl(e.NATS_URL)
  natsSecurity(nats.options, e)
  if (e.DATABASE_URL !== undefined && !/^postgres(ql)?:\/\//.test(e.DATABASE_URL)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://')
  }
  if (e.DATABASE_URL !== undefined) {
    let tls: ReturnType<typeof parseDatabaseTls>
    try {
      tls = parseDatabaseTls(e.DATABASE_URL)
    } catch (err) {
      throw new ConfigError((err as Error).message)
    }
    for (const [param, path] of [
      ['sslrootcert', tls.rootcert],
      ['sslcert', tls.cert],
      ['sslkey', tls.key],
    ] as const) {
      if (path !== undefined) readable(`DATABASE_URL: ${param}`, path)
    }
  }
  return {
    nats: nats.options,
    natsDisplay: nats.display,
    databaseUrl: e.DATABASE_URL,
    configPath: overrides.config ?? e.PAPERD_CONFIG,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT === 'auto' ? (tty ? 'pretty' : 'json') : e.LOG_FORMAT,
    metricsPort: e.METRICS_PORT ?? e.PORT ?? DEFAULT_METRICS_PORT,
    partitions: DEFAULT_PARTITIONS,
    ownedPartitions,
    threads: e.PAPERD_THREADS,
    dataDir: e.PAPERD_DATA_DIR,
    demoIntervalMs: e.PAPERD_DEMO_INTERVAL_MS,
    embeddedPgPort: e.PAPERD_PG_PORT,
    leaseTtlMs: e.PAPERD_LEASE_TTL_MS,
    warmUpBars: e.PAPERD_WARM_UP_BARS,
    streamReplicas: e.PAPERD_STREAM_REPLICAS,
    instanceId: e.PAPERD_INSTANCE_ID,
    providers: {
      alpaca: { keyId: e.APCA_API_KEY_ID, secretKey: e.APCA_API_SECRET_KEY, dataUrl: e.APCA_API_DATA_URL ?? 'https://data.alpaca.markets' },
      tiingo: { token: e.TIINGO_API_TOKEN, url: e.TIINGO_API_URL ?? 'https://api.tiingo.com' },
      fred: { apiKey: e.FRED_API_KEY, url: e.FRED_API_URL ?? 'https://api.stlouisfed.org' },
      finnhub: { apiKey: e.FINNHUB_API_KEY, url: e.FINNHUB_API_URL ?? 'https://finnhub.io' },
    },
  }
}

/**
 * nats.js ignores credentials embedded in a URL, so they are taken out here:
 * nats://token@host, nats://user:pass@host; several servers may be given comma-separated.
 */
export function parseNatsUrl(raw: string): { options: NatsOptions; display: string } {
  const servers: string[] = []
  const options: NatsOptions = { servers }
  const shown: string[] = []
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let u: URL
    try {
      u = new URL(part.includes('://') ? part : `nats://${part}`)
    } catch {
      // Never echo credentials: mask everything up to the last @.
      throw new ConfigError(`NATS_URL: "${part.replace(/^([a-z]+:\/\/)?.*@/i, '$1***@')}" is not a URL (expected nats://host:port)`)
    }
    if (!['nats:', 'tls:'].includes(u.protocol)) throw new ConfigError(`NATS_URL: unsupported scheme ${u.protocol} (use nats:// or tls://)`)
    if (!u.hostname) throw new ConfigError(`NATS_URL: "${u.protocol}//" has no host (expected nats://host:port)`)
    if (u.username && !u.password) options.token = decodeURIComponent(u.username)
    else if (u.username) {
      options.user = decodeURIComponent(u.username)
      options.pass = decodeURIComponent(u.password)
    }
    const hostPort = `${u.hostname}:${u.port || 4222}` // URL keeps IPv6 brackets in hostname
    servers.push(u.protocol === 'tls:' ? `tls://${hostPort}` : hostPort)
    shown.push(`${u.protocol}//${u.username ? '***@' : ''}${u.host || u.hostname}`)
  }
  if (servers.length === 0) throw new ConfigError('NATS_URL is empty')
  return { options, display: shown.join(',') }
}

/**
 * NATS_CREDS and NATS_TLS_*: checked here, once, so a wrong path or a file that is not what it should
 * be is a one-line error at start (naming the variable and the path, never a file's contents).
 */
function natsSecurity(
  options: NatsOptions,
  e: { NATS_CREDS?: string | undefined; NATS_TLS_CA?: string | undefined; NATS_TLS_CERT?: string | undefined; NATS_TLS_KEY?: string | undefined },
): void {
  if (e.NATS_CREDS !== undefined) {
    if (options.token !== undefined || options.user !== undefined) throw new ConfigError('NATS_CREDS and credentials in NATS_URL: use one or the other')
    const text = readable('NATS_CREDS', e.NATS_CREDS)
    // The layout nats.js parses (`nsc generate creds`): a user JWT block, then a user NKEY seed block.
    const blocks = [...text.matchAll(/\s*(?:(?:-{3,}[^\n]*-{3,}\n)(.+)(?:\n\s*-{3,}[^\n]*-{3,}\n))/g)].map((m) => m[1]!.trim())
    if (blocks.length < 2 || !blocks[0]!.startsWith('eyJ') || !blocks[1]!.startsWith('SU')) {
      throw new ConfigError(`NATS_CREDS: ${e.NATS_CREDS} is not a NATS user credentials file (a user JWT and a user NKEY seed, as nsc generate creds writes)`)
    }
    options.credsFile = e.NATS_CREDS
  }
  if ((e.NATS_TLS_CERT === undefined) !== (e.NATS_TLS_KEY === undefined)) {
    throw new ConfigError('NATS_TLS_CERT and NATS_TLS_KEY go together: the client certificate and its private key')
  }
  const tls: NonNullable<NatsOptions['tls']> = {}
  if (e.NATS_TLS_CA !== undefined) readable('NATS_TLS_CA', (tls.caFile = e.NATS_TLS_CA))
  if (e.NATS_TLS_CERT !== undefined) readable('NATS_TLS_CERT', (tls.certFile = e.NATS_TLS_CERT))
  if (e.NATS_TLS_KEY !== undefined) readable('NATS_TLS_KEY', (tls.keyFile = e.NATS_TLS_KEY))
  // nats.js upgrades to TLS whenever the server offers it, but only an explicit tls option makes it
  // refuse a server that does not (tls:// alone is not enough for the client).
  if (Object.keys(tls).length > 0 || options.servers.some((s) => s.startsWith('tls://'))) options.tls = tls
}

function readable(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

/** Reads and validates the JSON config file. */
export function loadConfigFile(path: string): ConfigFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`config ${path} is not valid JSON: ${(err as Error).message}`)
  }
  return parseConfig(json, path)
}

export function parseConfig(json: unknown, source = 'config'): ConfigFile {
  const parsed = ConfigFileSchema.safeParse(json)
  if (!parsed.success) throw new ConfigError(oneLine(source, parsed.error))
  return parsed.data
}

/** The first problem, with its path, on one line (and how many more there are). */
function oneLine(source: string, error: z.ZodError): string {
  const first = error.issues[0]!
  const path = first.path.length
    ? first.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '')
    : '(root)'
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : ''
  return `${source}: ${path}: ${first.message}${more}`
}

export function parseActorList(list: string | undefined): ActorName[] {
  if (!list || list === 'all') return [...ACTOR_NAMES]
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const n of names) {
    if (!(ACTOR_NAMES as readonly string[]).includes(n)) throw new ConfigError(`--actors: unknown actor "${n}" (known: ${ACTOR_NAMES.join(', ')})`)
  }
  return [...new Set(names)] as ActorName[]
}
