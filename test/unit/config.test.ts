import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ACTOR_NAMES } from '../../src/core/actor.js'
import { ConfigError, loadConfigFile, loadEnv, parseActorList, parseConfig, parseNatsUrl } from '../../src/config/env.js'
import { parseDatabaseTls } from '../../src/config/db-tls.js'
import { postgresSsl } from '../../src/adapters/postgres/tls.js'
import { PACKAGE_ROOT } from '../../src/config/paths.js'
import { rulesOf } from '../../src/core/config-file/strategies.js'

// SPEC §5.2, copied exactly: "it must work exactly as written".
const CANONICAL_TEXT = `{
  "accounts": [
    { "id": "main", "starting_cash": 10000,
      "costs": { "commission_pct": 0.001, "commission_per_share": 0, "commission_min": 0, "slippage_bps": 0 },
      "risk": { "ai_trading_enabled": true, "min_confidence_threshold": 0, "max_lot_size": 1000,
                "max_concurrent_trades": 10, "daily_profit_target": null, "stop_after_target": false,
                "max_drawdown_amount": null, "halt_on_drawdown": false, "allow_off_watchlist_autotrade": false } }
  ],
  "strategies": [
    { "id": "sma-cross", "account": "main", "symbols": ["ORCL"], "timeframe": "1d",
      "indicators": { "fast": { "type": "sma", "period": 10 }, "slow": { "type": "sma", "period": 30 } },
      "entry": { "long": { "crossesAbove": ["fast", "slow"] } },
      "exit":  { "long": { "crossesBelow": ["fast", "slow"] } },
      "sizing": { "fixed_qty": 100 } }
  ]
}`

// biome-ignore lint/suspicious/noExplicitAny: the tests edit parsed JSON freely
type Json = any
const canonical = (): Json => JSON.parse(CANONICAL_TEXT)

/** The ConfigError a bad config gives. */
function configError(json: unknown): string {
  try {
    parseConfig(json)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    const message = (err as Error).message
    expect(message).not.toContain('\n')
    return message
  }
  throw new Error('expected the config to be refused')
}

const tmp = mkdtempSync(join(tmpdir(), 'paperd-config-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('the canonical config (SPEC §5.2)', () => {
  it('parses exactly as written, with defaults filled in', () => {
    const cfg = parseConfig(canonical())
    expect(cfg.accounts).toEqual([
      {
        id: 'main',
        starting_cash: 10000,
        costs: { commission_pct: 0.001, commission_per_share: 0, commission_min: 0, slippage_bps: 0, volume_cap_pct: null },
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
          max_notional_per_order: null,
          max_orders_per_day: null,
          approval_timeout_minutes: 1440,
        },
      },
    ])
    expect(cfg.strategies).toEqual([
      {
        type: 'rules',
        id: 'sma-cross',
        account: 'main',
        symbols: ['ORCL'],
        timeframe: '1d',
        indicators: { fast: { type: 'sma', period: 10, source: 'close' }, slow: { type: 'sma', period: 30, source: 'close' } },
        entry: { long: { crossesAbove: ['fast', 'slow'] } },
        exit: { long: { crossesBelow: ['fast', 'slow'] } },
        sizing: { fixed_qty: 100 },
      },
    ])
  })

  it('examples/strategies.json (the whole language and a Gayed rotation) is a valid config', () => {
    const file = loadConfigFile(join(PACKAGE_ROOT, 'examples/strategies.json'))
    expect(file.strategies.map((s) => s.type)).toEqual(['rules', 'gayed'])
  })

  it('examples/feeds.json (every provider, the Gayed inputs from Tiingo and FRED) is a valid config', () => {
    const file = loadConfigFile(join(PACKAGE_ROOT, 'examples/feeds.json'))
    expect(file.feeds.map((f) => f.provider)).toEqual(['alpaca', 'tiingo', 'fred', 'finnhub'])
  })

  it('examples/canonical.json is the same document', () => {
    const file = loadConfigFile(join(PACKAGE_ROOT, 'examples/canonical.json'))
    expect(file).toEqual(parseConfig(canonical()))
  })

  it('a minimal config gets every default', () => {
    const cfg = parseConfig({
      accounts: [{ id: 'a', starting_cash: 1000 }],
      strategies: [{ id: 's', account: 'a', symbols: ['X'], entry: { long: { gt: ['close', 1] } }, sizing: { fixed_qty: 1 } }],
    })
    expect(cfg.accounts[0]!.costs).toEqual({ commission_pct: 0, commission_per_share: 0, commission_min: 0, slippage_bps: 0, volume_cap_pct: null })
    expect(cfg.accounts[0]!.risk).toEqual({
      ai_trading_enabled: true,
      min_confidence_threshold: 0,
      max_lot_size: null,
      max_concurrent_trades: null,
      daily_profit_target: null,
      stop_after_target: false,
      max_drawdown_amount: null,
      halt_on_drawdown: false,
      allow_off_watchlist_autotrade: false,
      max_notional_per_order: null,
      max_orders_per_day: null,
      approval_timeout_minutes: 1440,
    })
    expect(cfg.strategies[0]).toMatchObject({ timeframe: '1d', indicators: {}, exit: {} })
    expect(cfg.strategies[0]!.confidence).toBeUndefined()
    expect(parseConfig({ accounts: [{ id: 'a', starting_cash: 1 }] }).strategies).toEqual([])
  })

  it('accepts nested conditions, ema with a source, confidence adjustments and a $schema key', () => {
    const c = canonical()
    c.$schema = './schemas/config.json'
    c.strategies[0].indicators.trend = { type: 'ema', period: 50, source: 'high' }
    c.strategies[0].entry.long = { all: [{ crossesAbove: ['fast', 'slow'] }, { any: [{ gt: ['close', 'trend'] }, { not: { lt: ['volume', 1000] } }] }] }
    c.strategies[0].confidence = { base: 60, adjust: [{ when: { gt: ['close', 'trend'] }, add: 25 }] }
    const s = rulesOf(parseConfig(c).strategies)[0]!
    expect(s.indicators.trend).toEqual({ type: 'ema', period: 50, source: 'high' })
    expect(s.confidence).toEqual({ base: 60, adjust: [{ when: { gt: ['close', 'trend'] }, add: 25 }] })
  })
})

describe('the whole strategy language (SPEC §5.2)', () => {
  it('accepts shorts, brackets, sessions, forbidden, caps, rr_expectation, Phase-5 sizing and a Gayed strategy', () => {
    const c = canonical()
    const s = c.strategies[0]
    s.indicators.atr14 = { type: 'atr', period: 14 }
    s.indicators.dpi = { type: 'dpi' }
    s.entry.short = { crossesBelow: ['fast', 'slow'] }
    s.exit = {
      long: { lt: ['close', 'slow'] },
      short: { gt: ['close', 'slow'] },
      stop_loss: { atr: 2, indicator: 'atr14' },
      take_profit: { rr: 2 },
      max_bars: 60,
    }
    s.session_windows = [
      { days: ['Mon', 'tue', 'WED'], start: '09:30', end: '16:00', tz: 'America/New_York' },
      { start: '07:00Z', end: '11:00Z' },
    ]
    s.forbidden = [{ gt: ['atr14', 5] }]
    s.risk_caps = { max_lot_size: 500, max_concurrent_positions: 2 }
    s.rr_expectation = 1.5
    s.sizing = { risk_pct: 0.01, phase5: true }
    c.strategies.push({ type: 'gayed', id: 'gayed', account: 'main', defensive: 'IEF', inputs: { vix: null } })
    c.persistence = { snapshot_retention_days: 30 }
    const cfg = parseConfig(c)
    expect(cfg.strategies[0]).toMatchObject({
      type: 'rules',
      session_windows: [{ tz: 'America/New_York' }, { tz: 'UTC' }],
      sizing: { risk_pct: 0.01, phase5: true },
    })
    expect(cfg.strategies[1]).toMatchObject({
      type: 'gayed',
      timeframe: '1d',
      risk_on: 'SPY',
      defensive: 'IEF',
      inputs: { vix: null },
      sizing: { pct_equity: 0.95 },
    })
    expect(cfg.persistence).toEqual({ snapshot_retention_days: 30 })
  })
})

describe('bad configs: one line naming the path of the first error', () => {
  it.each<[string, (c: Json) => void, string | RegExp]>([
    [
      'an unknown operator inside all',
      (c) => {
        c.strategies[0].entry.long = { all: [{ gt: ['close', 1] }, { gtx: ['close', 1] }] }
      },
      /^config: strategies\[0\]\.entry\.long\.all\[1\]: Unrecognized key: "gtx"/,
    ],
    [
      'an empty condition',
      (c) => {
        c.strategies[0].entry.long = { all: [{ gt: ['close', 1] }, {}] }
      },
      /^config: strategies\[0\]\.entry\.long\.all\[1\]: a condition has exactly one operator/,
    ],
    [
      'two operators in one condition',
      (c) => {
        c.strategies[0].exit.long = { gt: ['close', 1], lt: ['close', 2] }
      },
      /^config: strategies\[0\]\.exit\.long: a condition has exactly one operator/,
    ],
    [
      'a malformed operand pair',
      (c) => {
        c.strategies[0].entry.long = { not: { gt: ['close'] } }
      },
      /^config: strategies\[0\]\.entry\.long\.not\.gt/,
    ],
    [
      'an all that is not a list',
      (c) => {
        c.strategies[0].entry.long = { all: 'fast' }
      },
      /^config: strategies\[0\]\.entry\.long\.all: /,
    ],
    [
      'an unknown account',
      (c) => {
        c.strategies[0].account = 'nope'
      },
      'config: strategies[0].account: unknown account "nope"',
    ],
    [
      'an undeclared indicator operand',
      (c) => {
        c.strategies[0].entry.long = { gt: ['rsi', 30] }
      },
      'config: strategies[0].entry.long.gt[0]: "rsi" is neither a declared indicator nor a bar field',
    ],
    [
      'an undeclared operand deep in exit',
      (c) => {
        c.strategies[0].exit.long = { any: [{ gt: ['close', 1] }, { not: { lt: ['fast', 'slowest'] } }] }
      },
      'config: strategies[0].exit.long.any[1].not.lt[1]: "slowest" is neither a declared indicator nor a bar field',
    ],
    [
      'an undeclared operand in a confidence adjustment',
      (c) => {
        c.strategies[0].confidence = { base: 50, adjust: [{ when: { gt: ['atr', 1] }, add: 5 }] }
      },
      'config: strategies[0].confidence.adjust[0].when.gt[0]: "atr" is neither a declared indicator nor a bar field',
    ],
    [
      'an indicator named like a bar field',
      (c) => {
        c.strategies[0].indicators.close = { type: 'sma', period: 3 }
      },
      'config: strategies[0].indicators.close: "close" is a bar field; give the indicator another name',
    ],
    [
      'a duplicated strategy id',
      (c) => {
        c.strategies.push(structuredClone(c.strategies[0]))
      },
      'config: strategies: strategy "sma-cross" is defined twice',
    ],
    [
      'a duplicated account id',
      (c) => {
        c.accounts.push(structuredClone(c.accounts[0]))
      },
      'config: accounts: account "main" is defined twice',
    ],
    [
      'conflicting declarations of one indicator on the same symbol/timeframe',
      (c) => {
        const other = structuredClone(c.strategies[0])
        other.id = 'other'
        other.indicators.fast.period = 12
        c.strategies.push(other)
      },
      'config: strategies[1].indicators.fast: "fast" on ORCL 1d is declared differently by strategy "sma-cross"',
    ],
    [
      'a dotted symbol',
      (c) => {
        c.strategies[0].symbols = ['ORCL', 'BRK.B']
      },
      'config: strategies[0].symbols[1]: symbols are A-Z 0-9 _ - (write BRK.B as BRK-B)',
    ],
    [
      'a lower-case symbol',
      (c) => {
        c.strategies[0].symbols = ['orcl']
      },
      /^config: strategies\[0\]\.symbols\[0\]: /,
    ],
    [
      'no symbols',
      (c) => {
        c.strategies[0].symbols = []
      },
      /^config: strategies\[0\]\.symbols: /,
    ],
    [
      'a bad account id',
      (c) => {
        c.accounts[0].id = 'Main Account'
        c.strategies[0].account = 'Main Account'
      },
      /^config: accounts\[0\]\.id: lower-case letters, digits, _ and -, at most 32/,
    ],
    [
      'an unknown account field',
      (c) => {
        c.accounts[0].leverage = 2
      },
      'config: accounts[0]: Unrecognized key: "leverage"',
    ],
    [
      'an unknown risk field',
      (c) => {
        c.accounts[0].risk.max_leverage = 2
      },
      'config: accounts[0].risk: Unrecognized key: "max_leverage"',
    ],
    [
      'a negative starting cash',
      (c) => {
        c.accounts[0].starting_cash = -1
      },
      /^config: accounts\[0\]\.starting_cash: /,
    ],
    [
      'a string where a number belongs',
      (c) => {
        c.accounts[0].costs.commission_pct = '0.1%'
      },
      /^config: accounts\[0\]\.costs\.commission_pct: .*expected number/,
    ],
    [
      'an unknown indicator type',
      (c) => {
        c.strategies[0].indicators.fast.type = 'wma'
      },
      /^config: strategies\[0\]\.indicators\.fast\.type: /,
    ],
    [
      'a zero period',
      (c) => {
        c.strategies[0].indicators.fast.period = 0
      },
      /^config: strategies\[0\]\.indicators\.fast\.period: /,
    ],
    [
      'a bad timeframe',
      (c) => {
        c.strategies[0].timeframe = 'daily'
      },
      'config: strategies[0].timeframe: like 1m, 15m, 1h, 1d: a count of s, m, h, d or w, at most a year (52w, 366d, 8784h)',
    ],
    [
      'a timeframe longer than a year',
      (c) => {
        c.strategies[0].timeframe = '9999w'
      },
      'config: strategies[0].timeframe: like 1m, 15m, 1h, 1d: a count of s, m, h, d or w, at most a year (52w, 366d, 8784h)',
    ],
    [
      'missing sizing',
      (c) => {
        delete c.strategies[0].sizing
      },
      /^config: strategies\[0\]\.sizing: /,
    ],
    [
      'no accounts',
      (c) => {
        c.accounts = []
      },
      /^config: accounts: /,
    ],
    [
      'an entry with neither side',
      (c) => {
        c.strategies[0].entry = {}
      },
      'config: strategies[0].entry: give "long", "short" or both',
    ],
    [
      'an undeclared operand in a short exit',
      (c) => {
        c.strategies[0].exit.short = { gt: ['macd.line', 0] }
      },
      'config: strategies[0].exit.short.gt[0]: "macd.line" is neither a declared indicator nor a bar field',
    ],
    [
      'an undeclared operand in forbidden',
      (c) => {
        c.strategies[0].forbidden = [{ gt: ['close', 1] }, { lt: ['rsi', 30] }]
      },
      'config: strategies[0].forbidden[1].lt[0]: "rsi" is neither a declared indicator nor a bar field',
    ],
    [
      'two stop kinds',
      (c) => {
        c.strategies[0].exit.stop_loss = { pct: 0.05, price: 40 }
      },
      'config: strategies[0].exit.stop_loss: stop_loss: give exactly one of pct, atr, price (got pct and price)',
    ],
    [
      'an atr stop without its indicator',
      (c) => {
        c.strategies[0].exit.stop_loss = { atr: 2 }
      },
      /^config: strategies\[0\]\.exit\.stop_loss: stop_loss: "atr" and "indicator" go together/,
    ],
    [
      'an atr stop on a non-atr indicator',
      (c) => {
        c.strategies[0].exit.stop_loss = { atr: 2, indicator: 'fast' }
      },
      'config: strategies[0].exit.stop_loss.indicator: "fast" is not a declared atr indicator',
    ],
    [
      'a stop of 100%',
      (c) => {
        c.strategies[0].exit.stop_loss = { pct: 1 }
      },
      /^config: strategies\[0\]\.exit\.stop_loss\.pct: /,
    ],
    [
      'an rr target without a stop',
      (c) => {
        c.strategies[0].exit.take_profit = { rr: 2 }
      },
      'config: strategies[0].exit.take_profit.rr: rr is a multiple of the stop distance: add exit.stop_loss',
    ],
    [
      'a zero max_bars',
      (c) => {
        c.strategies[0].exit.max_bars = 0
      },
      /^config: strategies\[0\]\.exit\.max_bars: /,
    ],
    [
      'two sizing methods',
      (c) => {
        c.strategies[0].sizing = { fixed_qty: 1, pct_equity: 0.5 }
      },
      'config: strategies[0].sizing: sizing: give exactly one of fixed_qty, pct_equity, risk_pct (got fixed_qty and pct_equity)',
    ],
    [
      'risk_pct without a stop',
      (c) => {
        c.strategies[0].sizing = { risk_pct: 0.01 }
      },
      'config: strategies[0].sizing.risk_pct: risk_pct needs exit.stop_loss (the risk is the stop distance)',
    ],
    [
      'phase5 sizing without a dpi',
      (c) => {
        c.strategies[0].sizing = { fixed_qty: 10, phase5: true }
      },
      'config: strategies[0].sizing.phase5: Phase-5 sizing reads the DPI: declare one, e.g. "dpi": {"type": "dpi"}',
    ],
    [
      'rr_expectation without a target',
      (c) => {
        c.strategies[0].rr_expectation = 2
        c.strategies[0].exit.stop_loss = { pct: 0.02 }
      },
      'config: strategies[0].rr_expectation: rr_expectation needs exit.stop_loss and exit.take_profit',
    ],
    [
      'a session day that is not a day',
      (c) => {
        c.strategies[0].session_windows = [{ days: ['Mon', 'Funday'] }]
      },
      'config: strategies[0].session_windows[0].days[1]: Mon, Tue, Wed, Thu, Fri, Sat or Sun',
    ],
    [
      'a session time that is not a time',
      (c) => {
        c.strategies[0].session_windows = [{ start: '9:30' }]
      },
      'config: strategies[0].session_windows[0].start: a time of day HH:MM (24 h)',
    ],
    [
      'an unknown time zone',
      (c) => {
        c.strategies[0].session_windows = [{ start: '09:30', tz: 'Mars/Olympus' }]
      },
      'config: strategies[0].session_windows[0].tz: an IANA time zone such as America/New_York',
    ],
    [
      'an unknown risk cap',
      (c) => {
        c.strategies[0].risk_caps = { max_leverage: 2 }
      },
      'config: strategies[0].risk_caps: Unrecognized key: "max_leverage"',
    ],
    [
      'an unknown strategy type',
      (c) => {
        c.strategies[0].type = 'ml'
      },
      /^config: strategies\[0\]\.type: /,
    ],
    [
      'a gayed strategy with an unknown input role',
      (c) => {
        c.strategies.push({ type: 'gayed', id: 'g', account: 'main', inputs: { oil: 'USO' } })
      },
      'config: strategies[1].inputs: Unrecognized key: "oil"',
    ],
    [
      'a gayed strategy holding the same symbol both ways',
      (c) => {
        c.strategies.push({ type: 'gayed', id: 'g', account: 'main', defensive: 'SPY' })
      },
      'config: strategies[1].defensive: "SPY" is also the risk_on symbol',
    ],
    [
      'a feed of an unknown provider',
      (c) => {
        c.feeds = [{ provider: 'bloomberg', symbols: ['ORCL'], start: '2020-01-01' }]
      },
      /^config: feeds\[0\]\.provider: /,
    ],
    [
      'a feed symbol written with a dot',
      (c) => {
        c.feeds = [{ provider: 'alpaca', symbols: ['ORCL', 'BRK.B'], start: '2020-01-01' }]
      },
      /^config: feeds\[0\]\.symbols\[1\]: /,
    ],
    [
      'a feed start that is not a date',
      (c) => {
        c.feeds = [{ provider: 'tiingo', symbols: ['SPY'], start: '2021-02-30' }]
      },
      'config: feeds[0].start: not a calendar date',
    ],
    [
      'an Alpaca timeframe the calendar does not know',
      (c) => {
        c.feeds = [{ provider: 'alpaca', symbols: ['SPY'], timeframe: '2d', start: '2020-01-01' }]
      },
      /^config: feeds\[0\]\.timeframe: /,
    ],
    [
      'one series from two feeds',
      (c) => {
        c.feeds = [
          { provider: 'alpaca', symbols: ['SPY', 'ORCL'], start: '2020-01-01' },
          { provider: 'tiingo', symbols: ['ORCL'], start: '2020-01-01' },
        ]
      },
      "config: feeds[1]: ORCL's 1d bars already come from feeds[0]",
    ],
    [
      'two feeds of one id',
      (c) => {
        c.feeds = [
          { provider: 'fred', id: 'rates', series: { VIX: 'VIXCLS' }, start: '2020-01-01' },
          { provider: 'fred', id: 'rates', series: { DGS10: 'DGS10' }, start: '2020-01-01' },
        ]
      },
      'config: feeds: feed "rates" is defined twice',
    ],
    [
      'an unknown top-level key',
      (c) => {
        c.strategy = []
      },
      /^config: \(root\): Unrecognized key: "strategy"/,
    ],
  ])('%s', (_, edit, want) => {
    const c = canonical()
    edit(c)
    const message = configError(c)
    if (typeof want === 'string') expect(message.replace(/ \(and \d+ more\)$/, '')).toBe(want)
    else expect(message).toMatch(want)
  })

  it('says how many more problems there are', () => {
    const c = canonical()
    c.strategies[0].account = 'nope'
    c.strategies[0].entry.long = { gt: ['rsi', 30] }
    expect(configError(c)).toBe('config: strategies[0].account: unknown account "nope" (and 1 more)')
  })

  it('never throws anything but a ConfigError, whatever the input', () => {
    for (const json of [
      null,
      42,
      'x',
      [],
      {},
      { accounts: null },
      { accounts: [{}] },
      { accounts: [{ id: 'a', starting_cash: 1 }], strategies: [{}] },
      { accounts: [{ id: 'a', starting_cash: 1 }], strategies: [{ id: 's', account: 'a', symbols: ['X'], entry: { long: [] }, sizing: { fixed_qty: 1 } }] },
      {
        accounts: [{ id: 'a', starting_cash: 1 }],
        strategies: [{ id: 's', account: 'a', symbols: ['X'], entry: { long: { all: [null] } }, sizing: { fixed_qty: 1 } }],
      },
      {
        accounts: [{ id: 'a', starting_cash: 1 }],
        strategies: [{ id: 's', account: 'b', symbols: ['X'], entry: { long: { not: 5 } }, sizing: { fixed_qty: 1 } }],
      },
    ]) {
      expect(() => parseConfig(json), JSON.stringify(json)).toThrow(ConfigError)
    }
  })

  it('loadConfigFile: unreadable file and invalid JSON are ConfigErrors naming the file', () => {
    expect(() => loadConfigFile(join(tmp, 'missing.json'))).toThrow(/cannot read config .*missing\.json: ENOENT/)
    const bad = join(tmp, 'bad.json')
    writeFileSync(bad, '{"accounts": [')
    expect(() => loadConfigFile(bad)).toThrow(ConfigError)
    expect(() => loadConfigFile(bad)).toThrow(/bad\.json is not valid JSON/)
    const wrong = join(tmp, 'wrong.json')
    writeFileSync(wrong, JSON.stringify({ accounts: [] }))
    expect(() => loadConfigFile(wrong)).toThrow(new RegExp(`^${wrong.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: accounts: `))
  })
})

describe('loadEnv', () => {
  it('given an empty environment, it uses the defaults', () => {
    const env = loadEnv({})
    expect(env).toEqual({
      nats: { servers: ['127.0.0.1:4222'] },
      natsDisplay: 'nats://127.0.0.1:4222',
      databaseUrl: undefined,
      configPath: undefined,
      logLevel: 'info',
      logFormat: 'json',
      metricsPort: 9464,
      partitions: 16,
      ownedPartitions: Array.from({ length: 16 }, (_, i) => i),
      threads: 'auto',
      dataDir: './data',
      demoIntervalMs: 1000,
      embeddedPgPort: 54329,
      leaseTtlMs: 5000,
      warmUpBars: 1500,
      streamReplicas: 1,
      instanceId: undefined,
      providers: {
        alpaca: { keyId: undefined, secretKey: undefined, dataUrl: 'https://data.alpaca.markets' },
        tiingo: { token: undefined, url: 'https://api.tiingo.com' },
        fred: { apiKey: undefined, url: 'https://api.stlouisfed.org' },
        finnhub: { apiKey: undefined, url: 'https://finnhub.io' },
      },
    })
  })

  it('reads PAPERD_THREADS, and --threads wins', () => {
    expect(loadEnv({ PAPERD_THREADS: '3' }).threads).toBe(3)
    expect(loadEnv({ PAPERD_THREADS: '3' }, { threads: 'auto' }).threads).toBe('auto')
    expect(() => loadEnv({ PAPERD_THREADS: '0' })).toThrow(/PAPERD_THREADS/)
  })

  it('names --threads, not the variable, when the flag is wrong', () => {
    expect(() => loadEnv({}, { threads: 'x' })).toThrow(/^--threads x: expected auto or a whole number from 1 to 64$/)
    expect(() => loadEnv({}, { threads: '0' })).toThrow(/^--threads 0: /)
  })

  it('serves metrics on METRICS_PORT, else on PORT (Railway health-checks it), else on 9464', () => {
    expect(loadEnv({ METRICS_PORT: '9100', PORT: '8080' }).metricsPort).toBe(9100)
    expect(loadEnv({ PORT: '8080' }).metricsPort).toBe(8080)
    expect(loadEnv({ METRICS_PORT: '', PORT: '8080' }).metricsPort).toBe(8080)
    expect(loadEnv({ METRICS_PORT: '0', PORT: '8080' }).metricsPort).toBe(0)
    expect(loadEnv({ PORT: '' }).metricsPort).toBe(9464)
    expect(() => loadEnv({ PORT: 'http' })).toThrow(/^environment: PORT: /)
  })

  it('logs JSON unless at a terminal (pretty), and LOG_FORMAT forces either', () => {
    expect(loadEnv({}).logFormat).toBe('json')
    expect(loadEnv({}, {}, true).logFormat).toBe('pretty')
    expect(loadEnv({ LOG_FORMAT: 'json' }, {}, true).logFormat).toBe('json')
    expect(loadEnv({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty')
    expect(loadEnv({ LOG_FORMAT: 'auto' }, {}, true).logFormat).toBe('pretty')
    expect(() => loadEnv({ LOG_FORMAT: 'yaml' })).toThrow(/^environment: LOG_FORMAT: /)
  })

  it('reads every variable, and CLI overrides win', () => {
    const env = loadEnv(
      {
        NATS_URL: 'nats://n1:4333',
        DATABASE_URL: 'postgresql://u:p@db/paperd?sslmode=require',
        PAPERD_CONFIG: 'a.json',
        LOG_LEVEL: 'debug',
        METRICS_PORT: '0',
        PAPERD_PARTITIONS: '0-3',
      },
      { config: 'b.json' },
    )
    expect(env.nats.servers).toEqual(['n1:4333'])
    expect(env.databaseUrl).toBe('postgresql://u:p@db/paperd?sslmode=require')
    expect(env.configPath).toBe('b.json')
    expect(env.logLevel).toBe('debug')
    expect(env.metricsPort).toBe(0)
    expect(env.ownedPartitions).toEqual([0, 1, 2, 3])
    expect(loadEnv({ PAPERD_PARTITIONS: '0-3' }, { partitions: '5' }).ownedPartitions).toEqual([5])
  })

  it.each([
    [{ METRICS_PORT: 'abc' }, /^environment: METRICS_PORT: /],
    [{ METRICS_PORT: '70000' }, /^environment: METRICS_PORT: /],
    [{ METRICS_PORT: '-1' }, /^environment: METRICS_PORT: /],
    [{ METRICS_PORT: '94.64' }, /^environment: METRICS_PORT: /],
    [{ LOG_LEVEL: 'verbose' }, /^environment: LOG_LEVEL: /],
    [{ LOG_LEVEL: 'INFO' }, /^environment: LOG_LEVEL: /],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
    [{ DATABASE_URL: 'db.example.com:5432' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
    [{ NATS_URL: 'http://localhost:4222' }, /NATS_URL: unsupported scheme http:/],
    [{ NATS_URL: ' , ' }, 'NATS_URL is empty'],
    [{ PAPERD_PARTITIONS: '0-99' }, /bad partition list "0-99"/],
  ])('given %j, it throws a one-line ConfigError', (vars, want) => {
    let error: unknown
    try {
      loadEnv(vars)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).not.toContain('\n')
    if (typeof want === 'string') expect(message).toBe(want)
    else expect(message).toMatch(want)
  })

  it('never puts a DATABASE_URL password in its error', () => {
    try {
      loadEnv({ DATABASE_URL: 'mysql://user:hunter2@db/x' })
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2')
    }
  })
})

describe('parseNatsUrl', () => {
  it.each<[string, { servers: string[]; token?: string; user?: string; pass?: string }, string, string[]]>([
    ['nats://127.0.0.1:4222', { servers: ['127.0.0.1:4222'] }, 'nats://127.0.0.1:4222', []],
    ['localhost', { servers: ['localhost:4222'] }, 'nats://localhost', []],
    ['nats://s3cr3t-token@nats.internal:4222', { servers: ['nats.internal:4222'], token: 's3cr3t-token' }, 'nats://***@nats.internal:4222', ['s3cr3t-token']],
    [
      'nats://alice:pa%40ss@nats.internal',
      { servers: ['nats.internal:4222'], user: 'alice', pass: 'pa@ss' },
      'nats://***@nats.internal',
      ['alice', 'pa@ss', 'pa%40ss'],
    ],
    ['nats://a:4222, nats://b:4223,c', { servers: ['a:4222', 'b:4223', 'c:4222'] }, 'nats://a:4222,nats://b:4223,nats://c', []],
    ['nats://[::1]:4222', { servers: ['[::1]:4222'] }, 'nats://[::1]:4222', []],
    ['nats://u:p4ss@[2001:db8::1]', { servers: ['[2001:db8::1]:4222'], user: 'u', pass: 'p4ss' }, 'nats://***@[2001:db8::1]', ['p4ss']],
    ['tls://tok3n@secure:4443', { servers: ['tls://secure:4443'], token: 'tok3n' }, 'tls://***@secure:4443', ['tok3n']],
  ])('%s', (raw, options, display, secrets) => {
    const parsed = parseNatsUrl(raw)
    expect(parsed.options).toEqual(options)
    expect(parsed.display).toBe(display)
    for (const secret of secrets) expect(parsed.display).not.toContain(secret)
  })

  it('loadEnv keeps credentials out of natsDisplay', () => {
    const env = loadEnv({ NATS_URL: 'nats://bob:hunter2@n1:4222,nats://t0ken@n2:4222' })
    expect(env.natsDisplay).toBe('nats://***@n1:4222,nats://***@n2:4222')
    expect(env.natsDisplay).not.toMatch(/bob|hunter2|t0ken/)
    expect(env.nats.servers).toEqual(['n1:4222', 'n2:4222'])
  })

  it.each(['nats://', 'nats://exa mple:4222', 'ws://host:80', 'nats://:4222'])('refuses %j with a ConfigError', (raw) => {
    expect(() => parseNatsUrl(raw)).toThrow(ConfigError)
  })

  it.each(['nats://bob:hunter2@exa mple:4222', 'nats://hunter2@exa mple:4222', 'ws://bob:hunter2@host', 'nats://bob:hunter2@', 'nats://bob:hun/ter2@host'])(
    'keeps the secret out of the error for the bad URL %j',
    (raw) => {
      let message = ''
      try {
        parseNatsUrl(raw)
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
        message = (err as Error).message
      }
      expect(message).toMatch(/^NATS_URL/)
      expect(message).not.toMatch(/hunter2|ter2/)
    },
  )
})

describe('NATS credentials and TLS files (NATS_CREDS, NATS_TLS_*)', () => {
  // A creds file as `nsc generate creds` writes it (the JWT and seed are made up: only the layout is checked here).
  const SEED = 'SUAEXAMPLESEEDEXAMPLESEEDEXAMPLESEEDEXAMPLESEEDEXAMPLESE'
  const creds = join(tmp, 'user.creds')
  writeFileSync(
    creds,
    `-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${SEED}\n------END USER NKEY SEED------\n`,
  )
  const notCreds = join(tmp, 'not.creds')
  writeFileSync(notCreds, `just a secret: ${SEED}\n`)
  const pem = join(tmp, 'some.pem')
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
  const fail = (vars: Record<string, string>): string => {
    try {
      loadEnv(vars)
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      expect((err as Error).message).not.toContain('\n')
      return (err as Error).message
    }
    throw new Error('expected a ConfigError')
  }

  it('NATS_CREDS names the creds file the client authenticates with; empty means unset', () => {
    expect(loadEnv({ NATS_CREDS: creds }).nats).toEqual({ servers: ['127.0.0.1:4222'], credsFile: creds })
    expect(loadEnv({ NATS_CREDS: '' }).nats).toEqual({ servers: ['127.0.0.1:4222'] })
  })

  it('a missing or malformed creds file, or creds with URL credentials, is a one-line error that never shows the file', () => {
    expect(fail({ NATS_CREDS: join(tmp, 'missing.creds') })).toMatch(/^NATS_CREDS: cannot read .*missing\.creds: ENOENT$/)
    const malformed = fail({ NATS_CREDS: notCreds })
    expect(malformed).toMatch(/^NATS_CREDS: .*not\.creds is not a NATS user credentials file/)
    expect(malformed).not.toContain(SEED)
    expect(fail({ NATS_CREDS: creds, NATS_URL: 'nats://bob:hunter2@n1' })).toBe('NATS_CREDS and credentials in NATS_URL: use one or the other')
  })

  it('NATS_TLS_CA / _CERT / _KEY become the tls option, and tls:// alone requires TLS', () => {
    expect(loadEnv({ NATS_TLS_CA: pem }).nats).toEqual({ servers: ['127.0.0.1:4222'], tls: { caFile: pem } })
    expect(loadEnv({ NATS_URL: 'nats://n1', NATS_TLS_CA: pem, NATS_TLS_CERT: pem, NATS_TLS_KEY: pem }).nats.tls).toEqual({
      caFile: pem,
      certFile: pem,
      keyFile: pem,
    })
    expect(loadEnv({ NATS_URL: 'tls://n1:4443' }).nats).toEqual({ servers: ['tls://n1:4443'], tls: {} })
    expect(loadEnv({ NATS_URL: 'nats://n1' }).nats.tls).toBeUndefined()
  })

  it('a TLS file that cannot be read, or a certificate without its key, is a one-line error', () => {
    expect(fail({ NATS_TLS_CA: join(tmp, 'nope.pem') })).toMatch(/^NATS_TLS_CA: cannot read .*nope\.pem: ENOENT$/)
    expect(fail({ NATS_TLS_CERT: pem })).toBe('NATS_TLS_CERT and NATS_TLS_KEY go together: the client certificate and its private key')
    expect(fail({ NATS_TLS_KEY: pem })).toBe('NATS_TLS_CERT and NATS_TLS_KEY go together: the client certificate and its private key')
  })
})

describe('DATABASE_URL TLS parameters', () => {
  const pem = join(tmp, 'ca.pem')
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')

  it('takes sslmode, sslrootcert, sslcert and sslkey out of the URL and keeps the rest', () => {
    expect(parseDatabaseTls('postgres://u:p@db/x')).toEqual({ url: 'postgres://u:p@db/x', mode: undefined })
    expect(parseDatabaseTls('postgres://u:p@db/x?application_name=a')).toEqual({ url: 'postgres://u:p@db/x?application_name=a', mode: undefined })
    expect(parseDatabaseTls('postgres://u:p@db/x?sslmode=require')).toEqual({ url: 'postgres://u:p@db/x', mode: 'require' })
    expect(parseDatabaseTls(`postgres://u:p@db/x?sslmode=verify-full&sslrootcert=${pem}&application_name=a`)).toEqual({
      url: 'postgres://u:p@db/x?application_name=a',
      mode: 'verify-full',
      rootcert: pem,
    })
    expect(parseDatabaseTls('postgres://u:p@db/x?sslmode=verify-ca&sslcert=/c.pem&sslkey=/k.pem')).toEqual({
      url: 'postgres://u:p@db/x',
      mode: 'verify-ca',
      cert: '/c.pem',
      key: '/k.pem',
    })
    expect(parseDatabaseTls('postgres://u:p@db/x?sslrootcert=system')).toEqual({ url: 'postgres://u:p@db/x', mode: 'verify-full' })
  })

  it('maps each sslmode to what libpq does', () => {
    const ssl = (mode: string, extra = '') => postgresSsl(parseDatabaseTls(`postgres://db/x?sslmode=${mode}${extra}`))
    expect(ssl('disable')).toBe(false)
    expect(ssl('allow')).toBe('prefer')
    expect(ssl('prefer')).toBe('prefer')
    expect(ssl('require')).toEqual({ rejectUnauthorized: false })
    const verifyCa = ssl('verify-ca') as { rejectUnauthorized: boolean; checkServerIdentity: () => unknown }
    expect(verifyCa.rejectUnauthorized).toBe(true)
    expect(verifyCa.checkServerIdentity()).toBeUndefined() // the chain only, not the host name
    expect(ssl('verify-full')).toMatchObject({ rejectUnauthorized: true })
    const withCa = ssl('verify-full', `&sslrootcert=${pem}`) as { ca: Buffer }
    expect(withCa.ca.toString()).toContain('BEGIN CERTIFICATE')
    // libpq: require with a root certificate verifies the chain like verify-ca.
    const requireCa = ssl('require', `&sslrootcert=${pem}`) as { rejectUnauthorized: boolean; checkServerIdentity?: unknown }
    expect(requireCa.rejectUnauthorized).toBe(true)
    expect(requireCa.checkServerIdentity).toBeTypeOf('function')
  })

  it('verify-full checks the certificate against the URL host, an IP address included', () => {
    const check = (url: string) =>
      (postgresSsl(parseDatabaseTls(url)) as { checkServerIdentity: (h: string, c: object) => Error | undefined }).checkServerIdentity
    const cert = (altnames: string) => ({ subject: { CN: 'x' }, subjectaltname: altnames })
    // Node passes "localhost" for an IP address (no server name): the URL's host is what counts.
    expect(check('postgres://u:p@127.0.0.1:5432/x?sslmode=verify-full')('localhost', cert('IP Address:127.0.0.1'))).toBeUndefined()
    expect(check('postgres://u:p@127.0.0.1:5432/x?sslmode=verify-full')('localhost', cert('DNS:localhost'))).toBeInstanceOf(Error)
    expect(check('postgres://u:p%40@db.internal/x?sslmode=verify-full')('db.internal', cert('DNS:db.internal'))).toBeUndefined()
    expect(check('postgres://u:p@db.internal/x?sslmode=verify-full')('db.internal', cert('DNS:other.internal'))).toBeInstanceOf(Error)
    expect(check('postgres://u:p@[::1]:5432/x?sslmode=verify-full')('localhost', cert('IP Address:0:0:0:0:0:0:0:1'))).toBeUndefined()
    expect(check('postgres://u:p@db1:5432,db2:5433/x?sslmode=verify-full')('db2', cert('DNS:db2'))).toBeUndefined()
  })

  it.each([
    [
      'postgres://u:hunter2@db/x?sslmode=verify_full',
      'DATABASE_URL: sslmode=verify_full is not one of disable, allow, prefer, require, verify-ca, verify-full',
    ],
    ['postgres://u:hunter2@db/x?sslrootcert=/ca.pem', 'DATABASE_URL: sslrootcert, sslcert and sslkey need sslmode=require, verify-ca or verify-full'],
    [
      'postgres://u:hunter2@db/x?sslmode=prefer&sslrootcert=/ca.pem',
      'DATABASE_URL: sslrootcert, sslcert and sslkey need sslmode=require, verify-ca or verify-full',
    ],
    ['postgres://u:hunter2@db/x?sslmode=require&sslcert=/c.pem', 'DATABASE_URL: sslcert and sslkey go together (the client certificate and its key)'],
    [`postgres://u:hunter2@db/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem`, 'DATABASE_URL: sslrootcert: cannot read /nonexistent/ca.pem: ENOENT'],
  ])('loadEnv refuses %s in one line, without the password', (url, want) => {
    let message = ''
    try {
      loadEnv({ DATABASE_URL: url })
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      message = (err as Error).message
    }
    expect(message).toBe(want)
    expect(message).not.toContain('hunter2')
  })
})

describe('parseActorList', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, [...ACTOR_NAMES]],
    ['', [...ACTOR_NAMES]],
    ['all', [...ACTOR_NAMES]],
    ['indicators,strategy', ['indicators', 'strategy']],
    [' persister , risk-gate ', ['persister', 'risk-gate']],
    ['strategy,strategy', ['strategy']],
  ])('%j → %j', (list, want) => {
    expect(parseActorList(list)).toEqual(want)
  })

  it('refuses an unknown actor, listing the known ones', () => {
    expect(() => parseActorList('indicators,executor')).toThrow(ConfigError)
    expect(() => parseActorList('indicators,executor')).toThrow(`--actors: unknown actor "executor" (known: ${ACTOR_NAMES.join(', ')})`)
  })
})

describe('worker-thread groups', () => {
  it('gives the account actors (gate and executor) a thread of their own, and splits the rest in pipeline order', async () => {
    const { groupActors } = await import('../../src/app/threads.js')
    const all = ['persister', 'risk-gate', 'market-snapshots', 'strategy', 'indicators', 'paper-executor'] as const
    expect(groupActors([...all], 2)).toEqual([
      ['market-snapshots', 'indicators', 'strategy', 'persister'],
      ['risk-gate', 'paper-executor'],
    ])
    expect(groupActors([...all], 3)).toEqual([
      ['market-snapshots', 'indicators'],
      ['strategy', 'persister'],
      ['risk-gate', 'paper-executor'],
    ])
    expect(groupActors([...all], 1)).toEqual([['market-snapshots', 'indicators', 'strategy', 'risk-gate', 'paper-executor', 'persister']])
    // Never apart: the gate's lookups are answered from the bars its executor handled.
    expect(groupActors(['risk-gate', 'paper-executor'], 2)).toEqual([['risk-gate', 'paper-executor']])
    expect(groupActors(['persister', 'indicators'], 8)).toEqual([['indicators'], ['persister']])
  })

  it('runs two threads by default where the account actors run beside others, or several actors on four cores; else one', async () => {
    const { defaultThreads } = await import('../../src/app/threads.js')
    const all = [...ACTOR_NAMES]
    expect([1, 2, 4, 8].map((cores) => defaultThreads(all, cores))).toEqual([1, 2, 2, 2])
    expect([2, 4].map((cores) => defaultThreads(['market-snapshots', 'indicators', 'strategy'], cores))).toEqual([1, 2])
    expect([2, 4].map((cores) => defaultThreads(['risk-gate', 'paper-executor'], cores))).toEqual([1, 2])
    expect(defaultThreads(['persister'], 8)).toBe(1)
  })
})
