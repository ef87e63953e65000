// The tape answers a lookup from memory only when it holds every bar of the range: what a consumer of
// every md.bar delivered without a gap. Otherwise it says so (null), and the stream is read.
import { describe, expect, it } from 'vitest'
import type { BarLookup, FoundBar } from '../../src/core/actor.js'
import type { Bar } from '../../src/core/contracts.js'
import { BarTape, lookupInMemory } from '../../src/runtime/bar-tape.js'
import { message } from '../support/messages.js'

const bar = (symbol: string, day: number, timeframe = '1d'): Bar => {
  const ts = new Date(Date.UTC(2024, 0, 1 + day)).toISOString()
  const id = `bar:${symbol}:${timeframe}:${ts}`
  return message('md.bar', { id, correlation_id: id, symbol, timeframe, ts })
}

/** A stream of MD: bars of three symbols with indicator messages between them (positions with no bar). */
function stream(n: number): FoundBar[] {
  const out: FoundBar[] = []
  let seq = 0
  for (let d = 0; d < n; d++)
    for (const s of ['ORCL', 'MSFT', 'SPY']) {
      seq += 2 // an md.ind before each bar
      out.push({ seq, bar: bar(s, d, d % 5 === 0 ? '1h' : '1d') })
    }
  return out
}

const bySymbol = (all: FoundBar[]) => (symbol: string) => all.filter((f) => f.bar.symbol === symbol)

describe('the bar tape', () => {
  const all = stream(40)

  it('fed from the start, answers every lookup as the stream would', () => {
    const tape = new BarTape()
    let prev = 0
    for (const f of all) {
      tape.record(prev, f.seq, f.bar)
      prev = f.seq
    }
    const lookups: BarLookup[] = []
    for (const symbol of ['ORCL', 'MSFT', 'SPY', 'AAPL'])
      for (const after of [0, 1, 17, 100, 200])
        for (const through of [after + 1, after + 30, all.at(-1)!.seq])
          for (const extra of [{}, { limit: 2 }, { timeframe: '1h' }]) if (through > after) lookups.push({ symbol, after, through, ...extra })
    for (const l of lookups) expect(tape.read(l), JSON.stringify(l)).toEqual(lookupInMemory(bySymbol(all), [l])[0]!.bars)
  })

  it('does not answer past what it has seen, nor before where it started after a gap', () => {
    const tape = new BarTape()
    const last = all.at(-1)!.seq
    // Fed from position 30 on (the consumer started there): nothing before is vouched for.
    let prev = 30
    for (const f of all.filter((f) => f.seq > 30)) {
      tape.record(prev, f.seq, f.bar)
      prev = f.seq
    }
    expect(tape.read({ symbol: 'ORCL', after: 29, through: 60 })).toBeNull()
    expect(tape.read({ symbol: 'ORCL', after: 30, through: last + 1 })).toBeNull()
    expect(tape.read({ symbol: 'ORCL', after: 30, through: 60 })).toEqual(lookupInMemory(bySymbol(all), [{ symbol: 'ORCL', after: 30, through: 60 }])[0]!.bars)
    // A bar that comes after a gap (its consumer's previous position is past the tape's end)
    // starts the tape again from there.
    tape.record(last + 10, last + 12, bar('ORCL', 99))
    expect(tape.read({ symbol: 'ORCL', after: 30, through: last + 12 })).toBeNull()
    expect(tape.read({ symbol: 'ORCL', after: last + 10, through: last + 12 })!.map((f) => f.seq)).toEqual([last + 12])
    expect(tape.read({ symbol: 'MSFT', after: last + 10, through: last + 12 })).toEqual([])
    // A position it cannot vouch for (a bar that did not decode) does the same.
    tape.forget(last + 14)
    expect(tape.read({ symbol: 'ORCL', after: last + 10, through: last + 14 })).toBeNull()
    // A second consumer behind the first changes nothing; once past the end, it extends the tape.
    tape.record(last + 12, last + 13, bar('MSFT', 99))
    expect(tape.read({ symbol: 'MSFT', after: last + 14, through: last + 14 })).toEqual([])
    tape.record(last + 13, last + 16, bar('SPY', 99))
    expect(tape.read({ symbol: 'SPY', after: last + 14, through: last + 16 })!.map((f) => f.seq)).toEqual([last + 16])
  })

  it('keeps a bounded number of bars, shared by the symbols: older lookups go to the stream', () => {
    const tape = new BarTape()
    let prev = 0
    // One symbol may keep them all: 50 000.
    for (let i = 1; i <= 60_000; i++) {
      tape.record(prev, i, bar('ORCL', i % 1000))
      prev = i
    }
    expect(tape.read({ symbol: 'ORCL', after: 0, through: 10 })).toBeNull()
    expect(tape.read({ symbol: 'ORCL', after: 30_000, through: 30_010 })!.map((f) => f.seq)).toHaveLength(10)
    expect(tape.read({ symbol: 'ORCL', after: 59_990, through: 60_000 })!.map((f) => f.seq)).toEqual([
      59_991, 59_992, 59_993, 59_994, 59_995, 59_996, 59_997, 59_998, 59_999, 60_000,
    ])
    // Another symbol's range is still whole.
    expect(tape.read({ symbol: 'MSFT', after: 0, through: 60_000 })).toEqual([])
    // Two hundred symbols share them: each keeps the latest of its own (at least 256).
    for (let i = 60_001; i <= 120_000; i++) {
      tape.record(prev, i, bar(`S${i % 200}`, i % 1000))
      prev = i
    }
    expect(tape.read({ symbol: 'S7', after: 119_000, through: 120_000 })).toHaveLength(5)
    expect(tape.read({ symbol: 'S7', after: 60_000, through: 120_000 })).toBeNull()
    expect(tape.read({ symbol: 'ORCL', after: 59_990, through: 120_000 })).toHaveLength(10)
  })

  it('is wanted while a scope looks bars up and none records on it, and tells whoever watches', () => {
    const tape = new BarTape()
    const seen: boolean[] = []
    const unwatch = tape.watch(() => seen.push(tape.wanted()))
    const gate = tape.readByScope()
    const executor = tape.fedByScope()
    const another = tape.fedByScope()
    executor()
    executor() // said twice: counted once
    another()
    gate()
    unwatch()
    tape.readByScope()
    expect(seen).toEqual([true, false, false, false, true, false])
    expect(tape.wanted()).toBe(true)
  })
})
