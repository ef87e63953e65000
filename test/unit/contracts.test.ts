import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { timeframeMs } from '../../actors/lib/timeframe.js'
import { contracts, messageTypes, type MessageType } from '../../src/core/contracts.js'
import { MARKET_LIMITS, TIMEFRAME_PATTERN, TS_INPUT_PATTERN } from '../../src/core/schemas.js'
import { filterOf, matchSubject, subjectMatches, subjectOf } from '../../src/core/subjects.js'
import { README_MARKERS, generatedFiles } from '../../src/app/generated-docs.js'
import { DEFAULT_PARTITIONS, fnv1a32, parsePartitionList, partitionOf } from '../../src/core/partition.js'
import { PACKAGE_ROOT, SCHEMAS_DIR } from '../../src/config/paths.js'

const read = (path: string) => readFileSync(join(PACKAGE_ROOT, path), 'utf8')
const readme = read('README.md')

describe('generated files (drift test: run `npm run schemas` after changing src/core/contracts.ts or src/core/config-file.ts)', () => {
  const files = generatedFiles(readme)

  it('generates one schema per message type, the config schema, the AsyncAPI document and the README table', () => {
    expect(Object.keys(files).sort()).toEqual(
      [...messageTypes.map((t) => `schemas/${t}.json`), 'schemas/config.json', 'schemas/asyncapi.json', 'README.md'].sort(),
    )
  })

  it.each(Object.keys(files))('%s is exactly what src/app/generated-docs.ts produces', (path) => {
    expect(read(path)).toBe(files[path])
  })

  it('schemas/ holds nothing but generated files', () => {
    const checkedIn = readdirSync(SCHEMAS_DIR)
      .map((f) => `schemas/${f}`)
      .sort()
    expect(checkedIn).toEqual(
      Object.keys(files)
        .filter((p) => p.startsWith('schemas/'))
        .sort(),
    )
  })

  it('the README has the subject-table markers, so the table is regenerated rather than dropped', () => {
    const [start, end] = README_MARKERS
    expect(readme.indexOf(start)).toBeGreaterThanOrEqual(0)
    expect(readme.indexOf(end)).toBeGreaterThan(readme.indexOf(start))
  })

  it('a hand edit of a schema is detected', () => {
    const edited = JSON.parse(read('schemas/md.bar.json')) as { properties: Record<string, unknown> }
    edited.properties.extra = { type: 'string' }
    expect(`${JSON.stringify(edited, null, 2)}\n`).not.toBe(files['schemas/md.bar.json'])
  })
})

describe('JSON Schemas', () => {
  // The codec compiles them without checking them against the meta-schema (it costs every start); this is that check.
  it.each(messageTypes)('schemas/%s.json is a valid draft-07 schema and compiles under ajv strict mode', (type) => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true })
    const schema = JSON.parse(read(`schemas/${type}.json`))
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true)
    expect(() => ajv.compile(schema)).not.toThrow()
  })

  it('schemas/config.json compiles under ajv strict mode (operands are string|number unions) and accepts the canonical example', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true })
    const validate = ajv.compile(JSON.parse(read('schemas/config.json')))
    expect(validate(JSON.parse(read('examples/canonical.json'))), JSON.stringify(validate.errors)).toBe(true)
    expect(validate(JSON.parse(read('examples/strategies.json'))), JSON.stringify(validate.errors)).toBe(true)
    // An editor using the schema flags what paperd refuses: an unknown key deep in a strategy.
    const bad = JSON.parse(read('examples/strategies.json'))
    bad.strategies[0].exit.stop_loss.atr_multiple = 2
    expect(validate(bad)).toBe(false)
    expect(validate.errors?.some((e) => e.instancePath === '/strategies/0/exit/stop_loss')).toBe(true)
  })

  it('every message schema rejects unknown fields (additionalProperties false at the top level)', () => {
    for (const type of messageTypes) {
      const schema = JSON.parse(read(`schemas/${type}.json`)) as { additionalProperties?: unknown }
      expect(schema.additionalProperties, type).toBe(false)
    }
  })
})

describe('market data bounds (MARKET_LIMITS), carried by the JSON Schemas', () => {
  const schema = (type: MessageType) => JSON.parse(read(`schemas/${type}.json`)) as { properties: Record<string, Record<string, unknown>> }

  it.each(['md.in.bar', 'md.bar'] as const)('%s: every price is within [minPrice, maxPrice], the volume within [0, 2^53 - 1]', (type) => {
    const { properties } = schema(type)
    for (const field of ['open', 'high', 'low', 'close']) expect(properties[field], field).toMatchObject({ type: 'number', minimum: 1e-12, maximum: 1e12 })
    expect(properties.volume).toMatchObject({ type: 'number', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  })

  it('md.in.context: both forecasts are prices', () => {
    const { properties } = schema('md.in.context')
    for (const field of ['consensus_forecast', 'distribution_estimate'])
      expect(properties[field], field).toMatchObject({ minimum: MARKET_LIMITS.minPrice, maximum: MARKET_LIMITS.maxPrice })
  })

  it('the timeframe pattern accepts exactly the counts of s, m, h, d, w up to 4 digits that last at most 366 days', () => {
    const pattern = new RegExp(TIMEFRAME_PATTERN)
    const year = MARKET_LIMITS.maxTimeframeDays * 86_400_000
    const wrong: string[] = []
    for (const unit of ['s', 'm', 'h', 'd', 'w']) {
      for (let n = 1; n <= 9999; n++) if (pattern.test(`${n}${unit}`) !== timeframeMs(`${n}${unit}`) <= year) wrong.push(`${n}${unit}`)
    }
    expect(wrong).toEqual([])
    for (const bad of ['0d', '01d', '1', 'd', '1y', '1D', '10000s', ' 1d', '1d ', '1h1d']) expect(pattern.test(bad), bad).toBe(false)
  })

  it('input times are accepted from the first day of firstYear to the last of lastYear, as written', () => {
    const pattern = new RegExp(TS_INPUT_PATTERN)
    const years = Array.from({ length: 10_000 }, (_, y) => String(y).padStart(4, '0')).filter((y) => pattern.test(`${y}-06-15`))
    expect(years[0]).toBe(String(MARKET_LIMITS.firstYear))
    expect(years.at(-1)).toBe(String(MARKET_LIMITS.lastYear))
    expect(years).toHaveLength(MARKET_LIMITS.lastYear - MARKET_LIMITS.firstYear + 1)
  })
})

/** A body with every token its subject template needs. */
const tokenData = (_type: MessageType) => ({ symbol: 'ORCL', account: 'main', actor: 'risk-gate', id: 'x' })

describe('subjects', () => {
  it.each(messageTypes)('%s: subjectOf → matchSubject round-trips to the same type and tokens', (type) => {
    const data = tokenData(type)
    const subject = subjectOf(type, data, DEFAULT_PARTITIONS)
    const match = matchSubject(subject)
    expect(match?.type).toBe(type)
    const template = contracts[type].subject
    for (const key of [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)) {
      const want = key === 'partition' ? String(partitionOf('ORCL')) : (data as Record<string, string>)[key]
      expect(match!.params[key], key).toBe(want)
    }
  })

  it.each(messageTypes)('%s: the concrete subject is matched by its filter, also with tokens fixed', (type) => {
    const subject = subjectOf(type, tokenData(type), DEFAULT_PARTITIONS)
    const params = matchSubject(subject)!.params
    for (const filter of [filterOf(type), filterOf(type, params)]) {
      expect(subjectMatches(filter, subject), `${filter} vs ${subject}`).toBe(true)
    }
    if (Object.keys(params).length) expect(filterOf(type, params)).toBe(subject)
  })

  it('filterOf leaves unfixed tokens as *, and partitions can be fixed by number', () => {
    expect(filterOf('md.bar')).toBe('md.bar.*.*')
    expect(filterOf('md.bar', { partition: 3 })).toBe('md.bar.3.*')
    expect(filterOf('trade.order', { account: 'main' })).toBe('trade.order.main')
    expect(filterOf('md.in.bar')).toBe('md.in.bar.*')
  })

  it('md.bar and md.ind carry the symbol partition in the subject', () => {
    expect(subjectOf('md.bar', { symbol: 'ORCL' }, 16)).toBe(`md.bar.${fnv1a32('ORCL') % 16}.ORCL`)
    expect(subjectOf('md.ind', { symbol: 'AAPL' }, 16)).toBe('md.ind.11.AAPL')
  })

  it('subjectOf refuses to build a subject without its token', () => {
    expect(() => subjectOf('trade.idea', {}, 16)).toThrow(/no account/)
    expect(() => subjectOf('md.in.bar', { symbol: '' }, 16)).toThrow(/no symbol/)
  })

  it.each([['md.in.bar.BRK.B'], ['md.in.bar'], ['md.bar.3'], ['trade.unknown.main'], ['trade.idea.main.extra'], ['ctl.risk.halt'], ['']])(
    'matchSubject(%j) is undefined',
    (subject) => {
      expect(matchSubject(subject)).toBeUndefined()
    },
  )

  it('similar prefixes are not confused (md.in.bar vs md.ind, trade.idea vs trade.idea_status)', () => {
    expect(matchSubject('md.in.bar.X')?.type).toBe('md.in.bar')
    expect(matchSubject('md.ind.5.X')?.type).toBe('md.ind')
    expect(matchSubject('trade.idea.main')?.type).toBe('trade.idea')
    expect(matchSubject('trade.idea_status.main')?.type).toBe('trade.idea_status')
  })
})

describe('subjectMatches (NATS wildcards)', () => {
  it.each([
    ['md.bar.*.*', 'md.bar.3.ORCL', true],
    ['md.bar.*.*', 'md.bar.3', false],
    ['md.>', 'md.bar.3.ORCL', true],
    ['md.>', 'md', false],
    ['trade.*.main', 'trade.fill.main', true],
    ['trade.*.main', 'trade.fill.other', false],
    ['dlq.>', 'dlq.persister', true],
  ])('%s vs %s → %s', (filter, subject, want) => expect(subjectMatches(filter, subject)).toBe(want))
})

describe('partitions', () => {
  // Independent reference: FNV-1a 32 with BigInt arithmetic over UTF-8 bytes.
  const reference = (text: string): number => {
    let h = 0x811c9dc5n
    for (const byte of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(byte)) * 0x01000193n) % 0x1_0000_0000n
    return Number(h)
  }

  it.each([
    ['', 0x811c9dc5], // offset basis
    ['a', 0xe40c292c], // published FNV-1a test vectors
    ['b', 0xe70c2de5],
    ['foobar', 0xbf9cf968],
    // By hand: 0x811c9dc5 ^ 0x41 = 0x811c9d84; 0x811c9d84 * 0x01000193 mod 2^32 = 0xc40bf6cc.
    ['A', 0xc40bf6cc],
    ['ORCL', 0xd57d4eab],
    ['AAPL', 0x58cd330b],
    ['BRK-B', 0xb07162f5],
  ])('fnv1a32(%j) = %i', (text, want) => {
    expect(fnv1a32(text)).toBe(want)
    expect(reference(text)).toBe(want)
  })

  it.each([
    ['ORCL', 11],
    ['AAPL', 11],
    ['SPY', 13],
    ['BRK-B', 5],
    ['a', 12],
  ])('partitionOf(%j) = %i of 16, as NATS {{partition(16,…)}} maps it', (symbol, want) => {
    expect(partitionOf(symbol)).toBe(want)
    expect(partitionOf(symbol, 16)).toBe(fnv1a32(symbol) % 16)
  })

  it('agrees with the BigInt reference on many symbols, including non-ASCII bytes', () => {
    const symbols = ['X', 'SPY', 'QQQ', 'BRK-A', 'VERY_LONG_SYMBOL_NAME_0123456789', 'Ä', '日本', ...Array.from({ length: 200 }, (_, i) => `S${i * 7919}`)]
    for (const s of symbols) {
      expect(fnv1a32(s), s).toBe(reference(s))
      expect(partitionOf(s, 16), s).toBe(reference(s) % 16)
      expect(partitionOf(s, 7), s).toBe(reference(s) % 7)
    }
  })

  it('always gives an unsigned 32-bit integer', () => {
    for (let i = 0; i < 1000; i++) {
      const h = fnv1a32(`sym${i}`)
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true)
    }
  })
})

describe('parsePartitionList', () => {
  it.each([
    ['0', [0]],
    ['15', [15]],
    ['0-3,7', [0, 1, 2, 3, 7]],
    ['7,0-3', [0, 1, 2, 3, 7]],
    [' 1 , 2 ', [1, 2]],
    ['1,1,1-2', [1, 2]],
    ['3-3', [3]],
    ['0,,1,', [0, 1]],
    ['0-15', Array.from({ length: 16 }, (_, i) => i)],
  ])('%j → %j', (spec, want) => {
    expect(parsePartitionList(spec, 16)).toEqual(want)
  })

  it.each([
    ['', /empty/],
    [',', /empty/],
    ['  ', /empty/],
    ['16', /partitions are 0-15/],
    ['0-16', /partitions are 0-15/],
    ['3-1', /partitions are 0-15/],
    ['-1', /not N or N-M/],
    ['1-', /not N or N-M/],
    ['a', /not N or N-M/],
    ['1.5', /not N or N-M/],
    ['0x1', /not N or N-M/],
    ['1 2', /not N or N-M/],
  ])('%j is refused (%s)', (spec, message) => {
    expect(() => parsePartitionList(spec, 16)).toThrow(message)
  })

  it('respects a smaller partition count', () => {
    expect(parsePartitionList('0-3', 4)).toEqual([0, 1, 2, 3])
    expect(() => parsePartitionList('4', 4)).toThrow(/partitions are 0-3/)
  })
})
