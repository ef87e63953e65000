// Feeds: paperd fetching its own market data. Each feed of the config is a scope, leased like every
// other (among replicas exactly one process polls it), that publishes plain md.in.bar.<SYM> messages
// with the message ids `paperd replay` gives the same bars — a feed and a replay of the same data
// dedupe each other — or, for a context feed, md.in.context.<SYM>.
//
// A bar feed first catches up from the last bar already stored for each symbol (its checkpoint, or
// the newest md.in.bar of the symbol in MD_IN, whichever is later; the config's `start` when there is
// none), then asks again whenever the market calendar says a bar is complete: daily bars after the
// close, intraday bars at the end of each bar of the session; weekends and exchange holidays are
// skipped. A provider that fails is a log line, paperd_feed_up = 0 and an alert, and is asked again
// with backoff — never a crash. Progress is checkpointed under the lease's fencing token after every
// page, so a restart fetches nothing twice and publishes nothing twice.
import type { JetStreamManager } from '@nats-io/jetstream'
import { type Feed, feedKey, feedSymbols, feedTimeframe } from '../core/config-file/feeds.js'
import { barsBetween, intradayMinutes, lastCompleteBar, localDate, nextBarDue } from '../core/market-calendar.js'
import { CANONICAL_TS } from '../core/schemas.js'
import { inputSubject } from '../core/subjects.js'
import type { ProviderSettings } from '../config/env.js'
import { alpacaBars } from '../adapters/feeds/alpaca.js'
import type { BarPages, FetchedBar } from '../adapters/feeds/bars.js'
import { finnhubTargets } from '../adapters/feeds/finnhub.js'
import { fredBars } from '../adapters/feeds/fred.js'
import { type HttpOptions, ProviderError } from '../adapters/feeds/http.js'
import { tiingoBars } from '../adapters/feeds/tiingo.js'
import { backoff, sleep } from '../runtime/backoff.js'
import type { CheckpointStore } from '../runtime/checkpoints.js'
import type { Lease, ScopeRunner } from '../runtime/leases.js'
import type { Placeable } from '../runtime/placement.js'
import type { Publisher } from '../runtime/publisher.js'
import type { Logger } from '../telemetry/log.js'
import type { Metrics } from '../telemetry/metrics.js'
import { barMessageId, injectedBar } from './replay.js'

/** The lease and checkpoint namespace of feeds (`scope.feeds.<feed>`, `feeds.<feed>`). */
export const FEEDS = 'feeds'

interface FeedDeps {
  jsm: JetStreamManager
  publisher: Publisher
  checkpoints: CheckpointStore
  providers: ProviderSettings
  log: Logger
  metrics: Metrics
  /** The wall clock (a feed is I/O: it asks providers for what exists now). */
  now?: () => number
}

/** What a feed's checkpoint holds. */
interface FeedProgress {
  provider: Feed['provider']
  /** The bar length published; null for a context feed. */
  timeframe: string | null
  /** How long after a bar's end it is asked for (status counts a bar missing only after it). */
  settle_ms: number
  /** symbol → open time of the last bar published (and acknowledged by the stream). */
  bars: Record<string, string>
  /** symbol → the last context published: its day and forecasts. */
  context?: Record<string, { date: string; consensus: number; distribution: number }>
}

/** Every feed of the config as a scope to lease. */
export const feedScopes = (feeds: readonly Feed[]): Placeable[] => feeds.map((f, i) => ({ key: feedKey(f, i) }))

/** Which credentials each provider needs, by variable. */
const NEEDS: Record<Feed['provider'], (p: ProviderSettings) => [string, string | undefined][]> = {
  alpaca: (p) => [
    ['APCA_API_KEY_ID', p.alpaca.keyId],
    ['APCA_API_SECRET_KEY', p.alpaca.secretKey],
  ],
  tiingo: (p) => [['TIINGO_API_TOKEN', p.tiingo.token]],
  fred: (p) => [['FRED_API_KEY', p.fred.apiKey]],
  finnhub: (p) => [['FINNHUB_API_KEY', p.finnhub.apiKey]],
}

/** The credentials the config's feeds need and the environment lacks, as one readable line; null when none. */
export function missingCredentials(feeds: readonly Feed[], providers: ProviderSettings): string | null {
  const missing = new Set<string>()
  for (const f of feeds)
    for (const [variable, value] of NEEDS[f.provider](providers)) if (!value) missing.add(`${variable} (feed ${feedKey(f, feeds.indexOf(f))})`)
  return missing.size ? `the config's feeds need ${[...missing].join(', ')}` : null
}

/** Runs a feed while its lease is held. */
export function feedRunner(feeds: readonly Feed[], deps: FeedDeps): ScopeRunner {
  const byKey = new Map(feeds.map((f, i) => [feedKey(f, i), f]))
  return (scope, lease) => {
    let markLive!: () => void
    const live = new Promise<void>((resolve) => (markLive = resolve))
    const feed = byKey.get(scope.key)!
    const done = runFeed(feed, scope.key, lease, deps, markLive).finally(() => markLive())
    return { live, done }
  }
}

async function runFeed(feed: Feed, key: string, lease: Lease, deps: FeedDeps, markLive: () => void): Promise<void> {
  const log = deps.log.child({ feed: key, provider: feed.provider })
  const now = deps.now ?? Date.now
  const signal = lease.signal
  const checkpointKey = `${FEEDS}.${key}`
  const saved = (await deps.checkpoints.load(checkpointKey).catch(() => null))?.state as FeedProgress | undefined
  const timeframe = feedTimeframe(feed)
  const progress: FeedProgress = {
    provider: feed.provider,
    timeframe,
    settle_ms: settleMs(feed, timeframe ?? '1d'),
    bars: { ...saved?.bars },
    ...(saved?.context ? { context: { ...saved.context } } : {}),
  }
  if (timeframe) for (const symbol of feedSymbols(feed)) await adoptStored(deps.jsm, symbol, timeframe, progress)
  const up = deps.metrics.feedUp.labels(key, feed.provider)
  up.set(1)
  markLive()
  log.info({ symbols: feedSymbols(feed).length, timeframe }, 'feed started')

  const save = () => deps.checkpoints.save(checkpointKey, { version: 1, positions: {}, state: progress }, lease.token)
  let failures = 0
  while (!signal.aborted) {
    try {
      if (feed.provider === 'finnhub') await pollContext(feed, key, progress, lease, deps, log, now())
      else await pollBars(feed, key, progress, lease, deps, log, save)
      failures = 0
      up.set(1)
    } catch (err) {
      if (signal.aborted || lease.reason() === 'lost') break
      failures++
      up.set(0)
      const wait = backoff(failures, 30_000, 15 * 60_000)
      log.warn({ err: (err as Error).message, failures, retryInS: Math.round(wait / 1000) }, 'feed poll failed; asking again later')
      await sleep(wait, signal)
      continue
    } finally {
      if (lease.reason() !== 'lost') await save().catch((err) => log.warn({ err: (err as Error).message }, 'feed progress not saved'))
    }
    if (timeframe) observeLag(feed, key, progress, deps.metrics, now())
    const wait = nextPoll(feed, progress, now()) - now()
    log.debug({ nextPollInS: Math.round(wait / 1000) }, 'feed idle')
    await sleep(Math.max(1000, wait), signal)
  }
  // Another instance reports the feed from now on: none of its series may linger here.
  deps.metrics.feedUp.remove(key, feed.provider)
  for (const symbol of feedSymbols(feed)) {
    deps.metrics.feedLastBar.remove(key, symbol)
    deps.metrics.feedBehind.remove(key, symbol)
  }
  log.info({ reason: lease.reason() }, 'feed stopped')
}

/** The newest md.in.bar of the symbol in MD_IN, when it is of this timeframe and later than the checkpoint's: a replay stored it. */
async function adoptStored(jsm: JetStreamManager, symbol: string, timeframe: string, progress: FeedProgress): Promise<void> {
  const last = await jsm.streams.getMessage('MD_IN', { last_by_subj: inputSubject('md.in.bar', symbol) }).catch(() => null)
  if (!last) return
  let bar: { ts?: unknown; timeframe?: unknown }
  try {
    bar = last.json()
  } catch {
    return
  }
  if ((bar.timeframe ?? '1d') !== timeframe || typeof bar.ts !== 'string') return
  const ms = Date.parse(bar.ts.length === 10 ? `${bar.ts}T00:00:00Z` : bar.ts)
  if (Number.isNaN(ms)) return
  const ts = new Date(ms).toISOString()
  if (!progress.bars[symbol] || progress.bars[symbol]! < ts) progress.bars[symbol] = ts
}

/** The settle time after a bar's end before the provider is asked for it. */
function settleMs(feed: Feed, timeframe: string): number {
  const minutes = 'delay_minutes' in feed ? feed.delay_minutes : undefined
  if (minutes !== undefined) return minutes * 60_000
  return intradayMinutes(timeframe) === null ? 30 * 60_000 : 10_000
}

/** When to ask again: the next bar's due time, or sooner while a symbol lacks a bar that is due (the provider is late). */
function nextPoll(feed: Feed, progress: FeedProgress, now: number): number {
  const timeframe = feedTimeframe(feed) ?? '1d'
  const settle = settleMs(feed, timeframe)
  const due = nextBarDue(timeframe, now, settle)
  if (feed.provider === 'finnhub') return due
  const latest = lastCompleteBar(timeframe, now, settle)
  const behind = feedSymbols(feed).some((s) => !progress.bars[s] || progress.bars[s]! < latest)
  const retry = now + (intradayMinutes(timeframe) === null ? 30 * 60_000 : 60_000)
  return behind ? Math.min(due, retry) : due
}

function observeLag(feed: Feed, key: string, progress: FeedProgress, metrics: Metrics, now: number): void {
  const timeframe = feedTimeframe(feed)!
  const latest = lastCompleteBar(timeframe, now, settleMs(feed, timeframe))
  for (const symbol of feedSymbols(feed)) {
    const last = progress.bars[symbol]
    if (!last) continue
    metrics.feedLastBar.set({ feed: key, symbol }, Date.parse(last) / 1000)
    metrics.feedBehind.set({ feed: key, symbol }, barsBetween(timeframe, last, latest))
  }
}

/** How a feed's requests go: stopped with its lease, each retry counted and said. */
function httpOptions(feed: Feed, key: string, lease: Lease, deps: FeedDeps, log: Logger): HttpOptions {
  return {
    signal: lease.signal,
    onRetry: (why, waitMs) => {
      deps.metrics.feedRequests.inc({ feed: key, provider: feed.provider, outcome: 'retried' })
      log.warn({ why, retryInS: Math.round(waitMs / 1000) }, 'provider busy or down; asking again')
    },
  }
}

/** Asks the provider for every bar after each symbol's last, publishes them in order, checkpointing after each page. */
async function pollBars(
  feed: Exclude<Feed, { provider: 'finnhub' }>,
  key: string,
  progress: FeedProgress,
  lease: Lease,
  deps: FeedDeps,
  log: Logger,
  save: () => Promise<void>,
): Promise<void> {
  const timeframe = feedTimeframe(feed)!
  const http = httpOptions(feed, key, lease, deps, log)
  const startOf = (symbol: string) => after(progress.bars[symbol], timeframe) ?? feed.start
  for (const pages of sources(feed, deps.providers, timeframe, startOf, http)) {
    for (;;) {
      let next: IteratorResult<FetchedBar[], void>
      try {
        next = await pages.next()
      } catch (err) {
        deps.metrics.feedRequests.inc({ feed: key, provider: feed.provider, outcome: 'failed' })
        throw err
      }
      if (next.done) break
      deps.metrics.feedRequests.inc({ feed: key, provider: feed.provider, outcome: 'ok' })
      const published = await publishPage(next.value, timeframe, progress, lease, deps)
      if (published) {
        deps.metrics.feedPublished.inc({ feed: key }, published)
        log.info({ published, through: lastOf(next.value) }, 'feed published bars')
        await save()
      }
    }
  }
}

const lastOf = (bars: FetchedBar[]) => bars.reduce((a, b) => (b.ts > a ? b.ts : a), '')

/**
 * The provider requests one poll makes, as streams of pages. Alpaca takes many symbols per request:
 * symbols that stopped at the same bar (all of them, once caught up) share one.
 */
function sources(
  feed: Exclude<Feed, { provider: 'finnhub' }>,
  providers: ProviderSettings,
  timeframe: string,
  startOf: (symbol: string) => string,
  http: HttpOptions,
): BarPages[] {
  switch (feed.provider) {
    case 'alpaca': {
      const groups = new Map<string, string[]>()
      for (const s of feed.symbols) {
        const start = startOf(s)
        groups.set(start, [...(groups.get(start) ?? []), s])
      }
      return [...groups].map(([start, symbols]) =>
        alpacaBars(
          providers.alpaca,
          { symbols, timeframe, start: alpacaTime(start), adjustment: feed.adjustment, ...(feed.data_feed ? { dataFeed: feed.data_feed } : {}) },
          http,
        ),
      )
    }
    case 'tiingo':
      return [tiingoBars(providers.tiingo, feed.symbols, startOf, feed.adjusted, http)]
    case 'fred':
      return [fredBars(providers.fred, feed.series, startOf, http)]
  }
}

/** RFC-3339 as Alpaca reads it: a date, or a time to the second. */
const alpacaTime = (start: string) => (start.length === 10 ? start : `${start.slice(0, 19)}Z`)

/** Where to start after the bar that opened at `last`: the next day for daily bars, the next minute otherwise. */
function after(last: string | undefined, timeframe: string): string | undefined {
  if (!last) return undefined
  const ms = Date.parse(last)
  if (intradayMinutes(timeframe) === null) return new Date(ms + 86_400_000).toISOString().slice(0, 10)
  return new Date(ms + 60_000).toISOString()
}

/**
 * Publishes what is new in a page, each symbol's bars in time order, and moves each symbol's mark
 * only over bars the stream acknowledged in order. Returns how many were published.
 */
async function publishPage(page: FetchedBar[], timeframe: string, progress: FeedProgress, lease: Lease, deps: FeedDeps): Promise<number> {
  const bySymbol = new Map<string, FetchedBar[]>()
  for (const bar of page) {
    const last = progress.bars[bar.symbol]
    // A time that cannot be read still goes out: market-snapshots dead-letters it with the reason.
    if (CANONICAL_TS.test(bar.ts) && last && bar.ts <= last) continue
    const list = bySymbol.get(bar.symbol)
    if (list) list.push(bar)
    else bySymbol.set(bar.symbol, [bar])
  }
  if (bySymbol.size === 0) return 0
  await lease.check()
  let published = 0
  const failures: Error[] = []
  await Promise.all(
    [...bySymbol].map(async ([symbol, bars]) => {
      bars.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
      const subject = inputSubject('md.in.bar', symbol)
      const acks = bars.map((b) => deps.publisher.publish(subject, injectedBar(b, timeframe), barMessageId(symbol, timeframe, b.ts)))
      for (const [i, ack] of acks.entries()) {
        try {
          await ack
        } catch (err) {
          failures.push(err as Error)
          // Later bars of the symbol may have been stored; the next poll sends them again under the same ids.
          for (const rest of acks.slice(i + 1)) rest.catch(() => undefined)
          return
        }
        published++
        if (CANONICAL_TS.test(bars[i]!.ts)) progress.bars[symbol] = bars[i]!.ts
      }
    }),
  )
  if (failures.length) throw new Error(`publishing bars failed: ${failures[0]!.message}`)
  return published
}

/** A context feed: each symbol's price targets once per trading day, published when they changed. */
async function pollContext(
  feed: Extract<Feed, { provider: 'finnhub' }>,
  key: string,
  progress: FeedProgress,
  lease: Lease,
  deps: FeedDeps,
  log: Logger,
  now: number,
): Promise<void> {
  const date = localDate(now)
  const http = httpOptions(feed, key, lease, deps, log)
  const contexts = (progress.context ??= {})
  for (const symbol of feed.symbols) {
    if (contexts[symbol]?.date === date) continue
    let t: Awaited<ReturnType<typeof finnhubTargets>>
    try {
      t = await finnhubTargets(deps.providers.finnhub, symbol, http)
    } catch (err) {
      deps.metrics.feedRequests.inc({ feed: key, provider: feed.provider, outcome: 'failed' })
      if (err instanceof ProviderError && !err.transient && err.status !== 401 && err.status !== 403) {
        log.warn({ symbol, err: err.message }, 'no price targets for the symbol; skipped today')
        continue
      }
      throw err
    }
    deps.metrics.feedRequests.inc({ feed: key, provider: feed.provider, outcome: 'ok' })
    const last = contexts[symbol]
    if (!(t.mean > 0) || !(t.median > 0)) {
      log.info({ symbol }, 'no analyst price targets for the symbol; no context published')
      contexts[symbol] = { date, consensus: last?.consensus ?? 0, distribution: last?.distribution ?? 0 }
      continue
    }
    if (last && last.consensus === t.mean && last.distribution === t.median) {
      contexts[symbol] = { ...last, date }
      continue
    }
    await lease.check()
    const payload = new TextEncoder().encode(JSON.stringify({ ts: date, consensus_forecast: t.mean, distribution_estimate: t.median }))
    await deps.publisher.publish(inputSubject('md.in.context', symbol), payload, `ctx:${symbol}:${date}`)
    deps.metrics.feedPublished.inc({ feed: key })
    contexts[symbol] = { date, consensus: t.mean, distribution: t.median }
    log.info({ symbol, consensus: t.mean, distribution: t.median, lastUpdated: t.lastUpdated }, 'feed published context')
  }
}
