// Market-data feeds: providers paperd polls by itself, each a leased scope that publishes plain
// md.in.bar.<SYM> / md.in.context.<SYM> messages (src/app/feeds.ts runs them). Credentials come from
// the environment, never from this file.
import { z } from 'zod'
import { SYMBOL_PATTERN } from '../schemas.js'

const Ticker = z.string().regex(new RegExp(SYMBOL_PATTERN)).describe('Ticker as paperd names it (a subject token)')
const Symbols = z.array(Ticker).min(1).max(200)
const StartDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a calendar date')
  .describe('First day to fetch (YYYY-MM-DD) when nothing of the series is stored yet')
const FeedId = z
  .string()
  .regex(/^[a-z0-9_-]{1,32}$/)
  .optional()
  .describe('Names the feed in status, metrics and leases; default <provider>-<position in the list>')
const DelayMinutes = z
  .number()
  .int()
  .min(0)
  .max(720)
  .optional()
  .describe('Minutes after the close (daily) or the bar end (intraday) before the provider is asked')

/** Bar lengths the feeds speak: the provider's names differ, the session calendar handles these. */
const FEED_TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '1d'] as const

const Alpaca = z
  .object({
    provider: z.literal('alpaca'),
    id: FeedId,
    symbols: Symbols,
    timeframe: z.enum(FEED_TIMEFRAMES).default('1d'),
    start: StartDate,
    adjustment: z.enum(['raw', 'split', 'dividend', 'all']).default('raw').describe("Alpaca's price adjustment; raw = as traded"),
    data_feed: z.enum(['iex', 'sip']).optional().describe("Alpaca's source: iex (free plans) or sip; default: the account's"),
    delay_minutes: DelayMinutes,
  })
  .strict()
  .describe('Alpaca Market Data v2 stock bars (APCA_API_KEY_ID, APCA_API_SECRET_KEY, APCA_API_DATA_URL)')

const Tiingo = z
  .object({
    provider: z.literal('tiingo'),
    id: FeedId,
    symbols: Symbols,
    timeframe: z.literal('1d').default('1d'),
    start: StartDate,
    adjusted: z.boolean().default(false).describe("Tiingo's adjusted prices (adjOpen…adjClose) instead of the traded ones"),
    delay_minutes: DelayMinutes,
  })
  .strict()
  .describe('Tiingo end-of-day prices (TIINGO_API_TOKEN, TIINGO_API_URL)')

const Fred = z
  .object({
    provider: z.literal('fred'),
    id: FeedId,
    series: z
      .record(Ticker, z.string().regex(/^[A-Z0-9_]{1,40}$/))
      .refine((s) => Object.keys(s).length >= 1, 'at least one series')
      .describe('paperd symbol → FRED series id, e.g. {"VIX": "VIXCLS"}; each observation becomes a daily bar (open = high = low = close)'),
    start: StartDate,
    delay_minutes: DelayMinutes,
  })
  .strict()
  .describe('FRED series observations (FRED_API_KEY, FRED_API_URL)')

const Finnhub = z
  .object({
    provider: z.literal('finnhub'),
    id: FeedId,
    symbols: Symbols,
    distribution: z
      .literal('analyst-median')
      .default('analyst-median')
      .describe("Where distribution_estimate comes from: analyst-median = the median analyst price target (README, 'NarrativeGap inputs')"),
  })
  .strict()
  .describe('NarrativeGap context from Finnhub price targets (FINNHUB_API_KEY, FINNHUB_API_URL)')

export const Feed = z.discriminatedUnion('provider', [Alpaca, Tiingo, Fred, Finnhub])
export type Feed = z.infer<typeof Feed>

/** The feed's name: its `id`, else `<provider>-<position>`. */
export const feedKey = (feed: Feed, index: number): string => feed.id ?? `${feed.provider}-${index}`

/** The symbols a feed publishes, as paperd names them. */
export const feedSymbols = (feed: Feed): string[] => (feed.provider === 'fred' ? Object.keys(feed.series) : feed.symbols)

/** The bar length a feed publishes; null for a context feed. */
export const feedTimeframe = (feed: Feed): (typeof FEED_TIMEFRAMES)[number] | null =>
  feed.provider === 'finnhub' ? null : feed.provider === 'fred' ? '1d' : feed.timeframe
