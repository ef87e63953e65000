import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readBarsFile } from '../../src/app/csv-files.js'
import { parseBarColumns, parseBarsCsv, parseContextCsv } from '../../src/core/csv.js'

const YAHOO = [
  'Date,Open,High,Low,Close,Adj Close,Volume',
  '2020-01-02,74.059998,75.150002,73.797501,75.087502,73.449394,135480400',
  '2020-01-03,74.287498,75.144997,74.125000,74.357498,72.735321,146322800',
].join('\n')

describe('parseBarsCsv: Yahoo files', () => {
  it('takes prices from Open..Close, never Adj Close, and dates at UTC midnight', () => {
    const { bars, skipped } = parseBarsCsv(YAHOO, 'aapl.csv')
    expect(skipped).toEqual([])
    expect(bars).toEqual([
      { ts: '2020-01-02T00:00:00.000Z', open: 74.059998, high: 75.150002, low: 73.797501, close: 75.087502, volume: 135480400 },
      { ts: '2020-01-03T00:00:00.000Z', open: 74.287498, high: 75.144997, low: 74.125, close: 74.357498, volume: 146322800 },
    ])
  })

  it('skips rows with null cells and reports their line numbers', () => {
    const text = [
      'Date,Open,High,Low,Close,Adj Close,Volume',
      '2020-01-01,null,null,null,null,null,null',
      '2020-01-02,1,2,0.5,1.5,1.4,100',
      '2020-01-03,1,2,0.5,null,1.4,100',
    ].join('\n')
    const { bars, skipped } = parseBarsCsv(text)
    expect(bars.map((b) => b.ts)).toEqual(['2020-01-02T00:00:00.000Z'])
    expect(skipped).toEqual([
      { line: 2, reason: 'null Open' },
      { line: 4, reason: 'null Close' },
    ])
  })

  it('ignores a null Adj Close because that column is not used', () => {
    const text = 'Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,1,2,0.5,1.5,null,100\n'
    expect(parseBarsCsv(text).bars).toHaveLength(1)
  })

  it('handles a BOM, CRLF line ends and blank trailing lines', () => {
    const text = `\uFEFF${YAHOO.replaceAll('\n', '\r\n')}\r\n\r\n\r\n`
    const { bars, skipped } = parseBarsCsv(text)
    expect(bars).toHaveLength(2)
    expect(skipped).toEqual([])
  })
})

describe('parseBarsCsv: generic files', () => {
  it('accepts case-insensitive names in any order and ignores extra columns', () => {
    const text = ['VOLUME,Close,ts,symbol,Low,High,Open', '10,4,2024-03-01T14:30:00Z,AAPL,1,5,2'].join('\n')
    expect(parseBarsCsv(text).bars).toEqual([{ ts: '2024-03-01T14:30:00.000Z', open: 2, high: 5, low: 1, close: 4, volume: 10 }])
  })

  it('converts zoned date-times, epoch seconds and epoch milliseconds to ISO UTC', () => {
    const text = [
      'ts,open,high,low,close,volume',
      '2024-03-01T09:30:00-05:00,1,1,1,1,1',
      '2024-03-01 10:30:00+0000,1,1,1,1,1',
      '2024-03-01t11:30:00.250z,1,1,1,1,1',
      '1709296200,1,1,1,1,1',
      '1709299800000,1,1,1,1,1',
      '1709303400.5,1,1,1,1,1',
    ].join('\n')
    const { bars, skipped } = parseBarsCsv(text)
    expect(skipped).toEqual([])
    expect(bars.map((b) => b.ts)).toEqual([
      '2024-03-01T10:30:00.000Z', // '2024-03-01 10:30:00+0000'
      '2024-03-01T11:30:00.250Z',
      '2024-03-01T12:30:00.000Z', // 1709296200 s
      '2024-03-01T13:30:00.000Z', // 1709299800000 ms
      '2024-03-01T14:30:00.000Z', // 09:30-05:00
      '2024-03-01T14:30:00.500Z', // 1709303400.5 s
    ])
  })

  it('gives every time as ISO UTC with milliseconds, kept as written when it already is, and keeps duplicates of an in-order file', () => {
    // In time order (no sort), one instant written three ways: the first wins, the others are duplicates.
    const times = ['2024-01-31', '2024-02-29T00:00:00.000Z', '2024-02-29', '2024-02-29T00:00:00Z', '2024-03-01T23:59:59.999Z', '2024-03-02T00:00:00.5Z']
    const text = ['ts,open,high,low,close,volume', ...times.map((t, i) => `${t},${i + 1},${i + 1},${i + 1},${i + 1},1`)].join('\n')
    const { bars, skipped } = parseBarsCsv(text)
    expect(bars.map((b) => [b.ts, b.open])).toEqual([
      ['2024-01-31T00:00:00.000Z', 1],
      ['2024-02-29T00:00:00.000Z', 2],
      ['2024-03-01T23:59:59.999Z', 5],
      ['2024-03-02T00:00:00.500Z', 6],
    ])
    expect(skipped.map((r) => r.line)).toEqual([4, 5])
    for (const b of bars) expect(b.ts).toBe(new Date(b.ts).toISOString())
  })

  it('sorts rows ascending by ts and keeps the first of duplicate timestamps', () => {
    const text = [
      'ts,open,high,low,close,volume',
      '2024-01-03,3,3,3,3,3',
      '2024-01-01,1,1,1,1,1',
      '2024-01-02,2,2,2,2,2',
      '2024-01-01T00:00:00Z,9,9,9,9,9',
    ].join('\n')
    const { bars, skipped } = parseBarsCsv(text)
    expect(bars.map((b) => b.open)).toEqual([1, 2, 3])
    expect(skipped).toEqual([{ line: 5, reason: 'duplicate ts 2024-01-01T00:00:00.000Z (first at line 3)' }])
  })

  it('reads quoted fields, including commas, doubled quotes and newlines inside quotes', () => {
    const text = ['ts,open,high,low,close,volume,note', '"2024-01-01"," 1.5 ","2","1","1.75","100","a, ""quoted""', 'note"', '2024-01-02,1,2,1,1,100,x'].join(
      '\n',
    )
    const { bars, skipped } = parseBarsCsv(text)
    expect(skipped).toEqual([])
    expect(bars).toEqual([
      { ts: '2024-01-01T00:00:00.000Z', open: 1.5, high: 2, low: 1, close: 1.75, volume: 100 },
      { ts: '2024-01-02T00:00:00.000Z', open: 1, high: 2, low: 1, close: 1, volume: 100 },
    ])
  })

  it('keeps line numbers right after a quoted field that spans lines', () => {
    const text = 'ts,open,high,low,close,volume,note\n2024-01-01,1,1,1,1,1,"a\nb"\n2024-01-02,x,1,1,1,1,c\n'
    expect(parseBarsCsv(text).skipped).toEqual([{ line: 4, reason: 'non-numeric open "x"' }])
  })

  it('reads plain and quoted lines alike, whatever mixes of CR, LF and CRLF end them, and counts lines right', () => {
    const text =
      'ts,open,high,low,close,volume,note\r' +
      '2024-01-01,1,1,1,1,1,plain\r\n' +
      '  \n' +
      '2024-01-02,1,1,1,1,1,"two\r\nlines"\r' +
      '2024-01-03, 2 ,2,2,2,2,"a ""b"", c"\n' +
      '2024-01-04,x,1,1,1,1,bad\r\n' +
      '"2024-01-05",3,3,3,3,3,' +
      '\n\n2024-01-06,y,1,1,1,1,"bad, too"'
    const { bars, skipped } = parseBarsCsv(text)
    expect(bars.map((b) => [b.ts.slice(0, 10), b.open])).toEqual([
      ['2024-01-01', 1],
      ['2024-01-02', 1],
      ['2024-01-03', 2],
      ['2024-01-05', 3],
    ])
    expect(skipped).toEqual([
      { line: 7, reason: 'non-numeric open "x"' },
      { line: 10, reason: 'non-numeric open "y"' },
    ])
  })

  it('does not check OHLC consistency (market-snapshots dead-letters bad bars)', () => {
    const text = 'ts,open,high,low,close,volume\n2024-01-01,10,1,20,-5,-1\n'
    expect(parseBarsCsv(text).bars).toEqual([{ ts: '2024-01-01T00:00:00.000Z', open: 10, high: 1, low: 20, close: -5, volume: -1 }])
  })
})

describe('parseBarsCsv: rows that cannot become bars', () => {
  const cases: [string, string][] = [
    ['2024-01-01,abc,1,1,1,1', 'non-numeric open "abc"'],
    ['2024-01-01,1,,1,1,1', 'empty high'],
    ['2024-01-01,1,1,0x10,1,1', 'non-numeric low "0x10"'],
    ['2024-01-01,1,1,1,Infinity,1', 'non-numeric close "Infinity"'],
    ['2024-01-01,1,1,1,1,1e999', 'non-finite volume "1e999"'],
    ['2024-01-01,1,1,1,1', 'expected at least 6 columns, got 5'],
    ['2021-02-30,1,1,1,1,1', 'invalid date "2021-02-30"'],
    ['2021-02-30T10:00:00Z,1,1,1,1,1', 'invalid date-time "2021-02-30T10:00:00Z"'],
    ['2024-01-01T25:00:00Z,1,1,1,1,1', 'invalid date-time "2024-01-01T25:00:00Z"'],
    ['2024-01-01 10:00:00,1,1,1,1,1', 'date-time without a time zone "2024-01-01 10:00:00" (add Z or an offset such as +00:00)'],
    ['20240101,1,1,1,1,1', 'ambiguous timestamp "20240101" (use YYYY-MM-DD, ISO 8601 or epoch seconds/ms)'],
    ['170929620000000,1,1,1,1,1', 'epoch value out of range "170929620000000" (seconds or milliseconds expected)'],
    ['01/02/2024,1,1,1,1,1', 'unrecognised timestamp "01/02/2024"'],
    [',1,1,1,1,1', 'empty timestamp'],
  ]
  for (const [row, reason] of cases) {
    it(`skips ${JSON.stringify(row)}: ${reason}`, () => {
      const { bars, skipped } = parseBarsCsv(`ts,open,high,low,close,volume\n${row}\n2024-06-01,1,1,1,1,1\n`)
      expect(skipped).toEqual([{ line: 2, reason }])
      expect(bars).toHaveLength(1)
    })
  }
})

describe('parseBarsCsv: files it refuses', () => {
  it('throws on an unrecognised header, naming the source, line and accepted headers', () => {
    const text = '\n\nTime,Price,Size\n2024-01-01,1,2\n'
    expect(() => parseBarsCsv(text, 'ticks.csv')).toThrow(
      /^ticks\.csv:3: unrecognised CSV header "Time,Price,Size" \(missing ts, open, high, low, close, volume\); expected Yahoo-style "Date,Open,High,Low,Close,Adj Close,Volume" or generic "ts,open,high,low,close,volume"/,
    )
  })

  it('throws when only Adj Close is given (it is not a substitute for Close)', () => {
    expect(() => parseBarsCsv('Date,Open,High,Low,Adj Close,Volume\n')).toThrow(/missing close\)/)
  })

  it('throws on two columns for the same field', () => {
    expect(() => parseBarsCsv('ts,Date,open,high,low,close,volume\n', 'x.csv')).toThrow('x.csv:1: more than one column for "ts" (ts, Date)')
  })

  it('throws on an empty file', () => {
    expect(() => parseBarsCsv('\uFEFF\r\n\r\n', 'empty.csv')).toThrow(/^empty\.csv: empty file/)
  })

  it('throws on an unterminated quote with its line', () => {
    expect(() => parseBarsCsv('ts,open,high,low,close,volume\n"2024-01-01,1,1,1,1,1\n', 'q.csv')).toThrow('q.csv:2: unterminated quoted field')
  })

  it('accepts a header-only file as zero bars', () => {
    expect(parseBarsCsv('ts,open,high,low,close,volume\n')).toEqual({ bars: [], skipped: [] })
  })
})

describe('readBarsFile (the CLI reads every bars file through it)', () => {
  it('reads a file and uses its path in messages; a file it cannot read is one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paperd-csv-'))
    try {
      const good = join(dir, 'good.csv')
      const bad = join(dir, 'bad.csv')
      writeFileSync(good, YAHOO)
      writeFileSync(bad, 'a,b\n')
      expect(readBarsFile(good).bars).toHaveLength(2)
      expect(() => readBarsFile(bad)).toThrow(`${bad}:1: unrecognised CSV header`)
      expect(() => readBarsFile(join(dir, 'missing.csv'))).toThrow(`cannot read ${join(dir, 'missing.csv')}: ENOENT`)
      // An ASCII file is read as Latin-1 (the same characters); any other as UTF-8: a BOM and a
      // non-ASCII cell read as the text they are.
      const utf8 = join(dir, 'utf8.csv')
      writeFileSync(utf8, `\uFEFF${YAHOO}\n2020-01-06,1,2,0.5,1.5,1,é\n`)
      const parsed = readBarsFile(utf8)
      expect(parsed.bars).toHaveLength(2)
      expect(parsed.skipped).toEqual([{ line: 4, reason: 'non-numeric Volume "é"' }])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('parseContextCsv (paperd backtest --context)', () => {
  it('reads ts, consensus_forecast and distribution_estimate in any order, sorted by time; bad rows are skipped with a reason', () => {
    const { contexts, skipped } = parseContextCsv(
      'Distribution_Estimate,ts,consensus_forecast,note\n101,2024-01-03,104,x\n100,2024-01-02,103\n,2024-01-04,1\n',
      'ctx.csv',
    )
    expect(contexts).toEqual([
      { ts: '2024-01-02T00:00:00.000Z', consensus_forecast: 103, distribution_estimate: 100 },
      { ts: '2024-01-03T00:00:00.000Z', consensus_forecast: 104, distribution_estimate: 101 },
    ])
    expect(skipped).toEqual([{ line: 4, reason: 'empty distribution_estimate' }])
  })

  it('refuses a file without the three columns, naming what it expects', () => {
    expect(() => parseContextCsv('ts,consensus\n2024-01-02,1\n', 'ctx.csv')).toThrow(
      'ctx.csv:1: expected a header "ts,consensus_forecast,distribution_estimate"',
    )
  })
})

describe('parseBarsCsv: dates and UTC date-times read from their digits', () => {
  // What the reader did before it read the digits itself (Date.parse, then the day printed back):
  // the same instants, and the same rows refused, for any fields — real, rolled over or out of range.
  const reference = (raw: string): number | null => {
    const ms = Date.parse(raw.length === 10 ? `${raw}T00:00:00.000Z` : raw)
    if (Number.isNaN(ms)) return null
    const d = new Date(ms)
    const sameDay =
      d.getUTCFullYear() === Number(raw.slice(0, 4)) && d.getUTCMonth() + 1 === Number(raw.slice(5, 7)) && d.getUTCDate() === Number(raw.slice(8, 10))
    return sameDay ? ms : null
  }
  const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'))
  const cell = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 9999 }), two(13), two(32)).map(([y, m, d]) => `${String(y).padStart(4, '0')}-${m}-${d}`),
    fc
      .tuple(fc.integer({ min: 1, max: 9999 }), two(13), two(32), two(25), two(61), two(61), fc.constantFrom('', '.5', '.05', '.123', '.999'))
      .map(([y, m, d, hh, mm, ss, frac]) => `${String(y).padStart(4, '0')}-${m}-${d}T${hh}:${mm}:${ss}${frac}Z`),
  )

  it('agree with Date.parse on every instant, and refuse what it rolls over', () => {
    fc.assert(
      fc.property(cell, (raw) => {
        const { bars, skipped } = parseBarsCsv(`ts,open,high,low,close,volume\n${raw},1,1,1,1,1\n`)
        const want = reference(raw)
        if (want === null) {
          expect(bars).toEqual([])
          expect(skipped[0]?.reason).toMatch(/^invalid date/)
        } else {
          expect(skipped).toEqual([])
          expect(Date.parse(bars[0]!.ts)).toBe(want)
        }
      }),
      { numRuns: 3000 },
    )
  })
})

describe('parseBarColumns: columns in strict time order vouch for their times', () => {
  // A backtest checks input bars of such columns without reading their times again (codec
  // checkInputBar with realTime): every time must be canonical and a real instant, whatever the
  // file wrote — dates, date-times with zones, epoch seconds or milliseconds.
  const cell = fc.oneof(
    fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString()),
    fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString().slice(0, 10)),
    fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString().replace('.000Z', '+02:00')),
    fc.integer({ min: 1e8, max: 4e9 }).map(String),
    fc.integer({ min: 1e11, max: 4e12 }).map(String),
  )
  it('gives canonical times of real instants', () => {
    let strict = 0
    fc.assert(
      fc.property(fc.array(cell, { minLength: 1, maxLength: 5 }), (cells) => {
        const { bars } = parseBarColumns(`ts,open,high,low,close,volume\n${cells.map((c) => `${c},1,1,1,1,1`).join('\n')}\n`)
        if (!bars.strict) return true
        strict++
        return bars.ts.every((ts) => ts.length === 24 && new Date(Date.parse(ts)).toISOString() === ts)
      }),
      { numRuns: 2000 },
    )
    expect(strict).toBeGreaterThan(500) // files in order were among them
  })
})

describe('parseBarsCsv: numbers read from their digits', () => {
  // Plain decimals of up to 15 digits are read without Number(); anything else takes the general
  // path. Both must give exactly what Number() gives (same double, -0 included), and refuse the same.
  const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max })
  const cell = fc.oneof(
    fc.tuple(fc.constantFrom('', '-', '+'), digits(0, 18), fc.constantFrom('', '.'), digits(0, 18)).map(([sign, a, p, b]) => `${sign}${a}${p}${b}`),
    fc.double({ noNaN: true }).map(String),
    fc.integer().map(String),
    fc.constantFrom('.', '-.', '1.2.3', '1e3', '5.', '.5', '-0', '0.1', '9007199254740993', '999999999999999', '0.000000000000001', '1_000', 'Infinity'),
  )

  it('agree with Number() on every plain decimal, and refuse what is not one', () => {
    fc.assert(
      fc.property(cell, (raw) => {
        const { bars, skipped } = parseBarsCsv(`ts,open,high,low,close,volume\n2024-01-02,${raw},1,1,1,1\n`)
        const plain = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(raw) && Number.isFinite(Number(raw))
        if (plain) expect(Object.is(bars[0]?.open, Number(raw)), `${raw} → ${bars[0]?.open}`).toBe(true)
        else expect(skipped).toHaveLength(1)
      }),
      { numRuns: 5000 },
    )
  })
})

describe('parseBarsCsv: the quote-free fast path', () => {
  // A file with no quote is cut at its line ends by indexOf; the same file with one quoted header
  // cell (an extra column, ignored) is read character by character. Both must give the same bars,
  // the same skipped rows and the same line numbers, whatever the line ends (LF, CRLF) and blank lines.
  const row = fc.oneof(
    fc.constant(''),
    fc
      .tuple(fc.integer({ min: 1, max: 28 }), fc.constantFrom('1', '2.5', ' 3 ', 'null', '', 'x', '1e3'))
      .map(([d, v]) => `2024-01-${String(d).padStart(2, '0')},${v},4,0.5,2,100`),
  )
  const file = fc.tuple(fc.array(fc.tuple(row, fc.constantFrom('\n', '\r\n')), { maxLength: 30 }), fc.boolean())

  it('reads a file as the character-by-character reader does', () => {
    fc.assert(
      fc.property(file, ([rows, endsWithNewline]) => {
        const body = rows.map(([r, eol]) => r + eol).join('')
        const text = `ts,open,high,low,close,volume\n${endsWithNewline ? body : body.replace(/\r?\n$/, '')}`
        const quoted = text.replace('volume\n', 'volume,"note"\n')
        expect(parseBarsCsv(text)).toEqual(parseBarsCsv(quoted))
      }),
      { numRuns: 500 },
    )
  })

  // The fast path reads a line in one pass, cell by cell in the header's order: any order of the
  // columns, columns it does not read (before, between, after), lines of fewer or more cells, and
  // every kind of cell in every column must give what the general path gives.
  const number = fc.oneof(
    fc.constantFrom('1', '2.5', '-3', '+4', '.5', '5.', '', ' 6', '7 ', 'x', '1e3', '-', '.', '1.2.3', 'null'),
    fc.double({ min: 0, max: 1e6, noNaN: true }).map(String),
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 14, maxLength: 18 }),
  )
  const time = fc.constantFrom('2024-01-02', '2024-01-02T10:00:00.000Z', '2024-01-02T10:00:00Z', '2024-02-30', '2024-01-02 10:00', 'x', '')
  const layout = fc.tuple(
    fc.shuffledSubarray(['ts', 'open', 'high', 'low', 'close', 'volume', 'a', 'b'], { minLength: 8, maxLength: 8 }),
    fc.array(fc.tuple(time, fc.array(number, { minLength: 7, maxLength: 7 }), fc.integer({ min: -2, max: 2 })), { maxLength: 12 }),
  )
  it('reads every column order and width as the character-by-character reader does', () => {
    fc.assert(
      fc.property(layout, ([header, rows]) => {
        const lines = rows.map(([ts, numbers, extra]) => {
          let n = 0
          const cells = header.map((name) => (name === 'ts' ? ts : numbers[n++]!))
          // Fewer cells than the header (cut short), or more (cells it does not name).
          return (extra < 0 ? cells.slice(0, cells.length + extra) : [...cells, ...Array.from({ length: extra }, (_, k) => `z${k}`)]).join(',')
        })
        const text = `${header.join(',')}\n${lines.join('\n')}\n`
        const quoted = text.replace('\n', ',"note"\n')
        expect(parseBarsCsv(text)).toEqual(parseBarsCsv(quoted))
      }),
      { numRuns: 2000 },
    )
  })
})
