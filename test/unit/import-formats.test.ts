// What paperd import makes of each legacy format (test/fixtures/import, written from the seeds'
// schemas): the fills and portfolio snapshots, with ids made from the records' own, and the records
// it cannot take, each with the reason.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { detectFormat, readImport } from '../../src/app/import-formats.js'
import { traderAiDatabase } from '../support/trader-ai-db.js'

const fixture = (name: string) => readFileSync(`test/fixtures/import/${name}`)

describe('paperd import formats', () => {
  it('tells the formats apart by their content', async () => {
    expect(detectFormat(await traderAiDatabase(), 'x.bin')).toBe('trader-ai-sqlite')
    expect(detectFormat(fixture('migration_export.json'), 'a.json')).toBe('migration-export')
    expect(detectFormat(fixture('prescient-portfolio.json'), 'b.json')).toBe('prescient-json')
    expect(detectFormat(fixture('trades.csv'), 'trades.csv')).toBe('trades-csv')
    expect(() => detectFormat(Buffer.from('{"a": 1}'), 'c.json')).toThrow(/neither a migration_export.json/)
    expect(() => detectFormat(Buffer.from('hello'), 'd.txt')).toThrow(/pass --format/)
  })

  it('trader-ai: each trade opened and closed at once, the exit where its P&L puts it; every snapshot, the latest active one current', async () => {
    const { messages, skipped } = await readImport(await traderAiDatabase(), 'trader-ai-sqlite', 'trader-ai')
    expect(skipped).toEqual([])
    const trades = messages.filter((m) => m.type === 'import.trade')
    expect(trades.map((t) => [t.id, t.side, t.intent])).toEqual([
      ['import:trader-ai-sqlite:trader-ai:TRADE_001:entry', 'buy', 'entry'],
      ['import:trader-ai-sqlite:trader-ai:TRADE_001:exit', 'sell', 'exit'],
      ['import:trader-ai-sqlite:trader-ai:TRADE_002:entry', 'sell', 'entry'],
      ['import:trader-ai-sqlite:trader-ai:TRADE_002:exit', 'buy', 'exit'],
      ['import:trader-ai-sqlite:trader-ai:TRADE_003:entry', 'buy', 'entry'],
      ['import:trader-ai-sqlite:trader-ai:TRADE_003:exit', 'sell', 'exit'],
    ])
    const [entry, exit] = trades
    expect(entry).toMatchObject({ ts: '2025-10-06T14:30:05.123Z', symbol: 'SPY', price: 669.21, is_simulation: true })
    expect(entry!.qty).toBeCloseTo(1000 / 669.21, 12)
    expect(entry!.phase5).toEqual({ ng_score: 0.031, ng_multiplier: 1.031, brier_adjustment: 0.9, dpi_enhancement: 1.12 })
    // The P&L is recovered exactly: qty × (exit − entry) = 41.5.
    expect(exit!.qty * (exit!.price - entry!.price)).toBeCloseTo(41.5, 9)
    const short = trades.filter((t) => t.position_id.endsWith('TRADE_002'))
    expect(short[0]!.qty * (short[0]!.price - short[1]!.price)).toBeCloseTo(-23.1, 9)
    const snaps = messages.filter((m) => m.type === 'import.portfolio')
    expect(snaps.map((s) => [s.cash, s.realized_pnl, s.trade_count, s.current])).toEqual([
      [10041.5, 41.5, 1, false],
      [10018.4, 18.4, 2, false],
      [10031.15, 31.15, 3, true],
    ])
  })

  it('bumpy-croc: an entry and an exit per completed trade, the commission on the exit; a trade without units skipped, said why', async () => {
    const { messages, skipped } = await readImport(fixture('migration_export.json'), 'migration-export', 'crypto')
    expect(skipped).toEqual([{ record: 'trades 3', reason: expect.stringMatching(/no quantity/) }])
    const trades = messages.filter((m) => m.type === 'import.trade')
    expect(trades.map((t) => [t.symbol, t.side, t.intent, t.qty, t.price, t.commission, t.exit_reason, t.ts])).toEqual([
      ['BTCUSDT', 'buy', 'entry', 0.000889, 112450.5, 0, null, '2025-09-29T09:00:00.000Z'],
      ['BTCUSDT', 'sell', 'exit', 0.000889, 113800, 0.1, 'take_profit', '2025-09-29T15:00:00.000Z'],
      ['ETHUSDT', 'sell', 'entry', 0.01205, 4150, 0, null, '2025-09-29T16:00:00.000Z'],
      ['ETHUSDT', 'buy', 'exit', 0.01205, 4190.5, 0.05, 'stop_loss', '2025-09-29T18:00:00.000Z'],
    ])
    expect(trades.every((t) => t.strategy_id === 'MlBasic' && t.is_simulation)).toBe(true)
    const snaps = messages.filter((m) => m.type === 'import.portfolio')
    expect(snaps.map((s) => [s.starting_cash, s.cash, s.current])).toEqual([
      [1000, 1000, false],
      [1000, 1000.56, true],
    ])
  })

  it('prescient: YES and NO shares as instruments, dollars turned into shares, the state with what it started from', async () => {
    const { messages, skipped } = await readImport(fixture('prescient-portfolio.json'), 'prescient-json', 'prescient')
    expect(skipped).toEqual([])
    const trades = messages.filter((m) => m.type === 'import.trade')
    expect(trades.map((t) => [t.symbol, t.side, t.intent])).toEqual([
      ['PM-516710-YES', 'buy', 'entry'],
      ['PM-516710-YES', 'sell', 'exit'],
      [expect.stringMatching(/^PM-0X5F1A2B3C4D5E6F7081-[0-9A-F]{8}$/), 'buy', 'entry'],
      ['PM-520011-YES', 'buy', 'entry'],
    ])
    expect(trades[0]!.qty * (trades[1]!.price - trades[0]!.price)).toBeCloseTo(18.5, 2)
    const [state] = messages.filter((m) => m.type === 'import.portfolio')
    expect(state).toMatchObject({ starting_cash: 10000, cash: 9818.5, equity: 10018.5, realized_pnl: 18.5, winning_trades: 1, current: true })
  })

  it('a trades CSV: entries and exits from the running position, BRK.B as BRK-B, bad rows skipped with their line', async () => {
    const { messages, skipped } = await readImport(fixture('trades.csv'), 'trades-csv', 'swing')
    expect(skipped).toEqual([
      { record: 'line 5', reason: 'price: Invalid input: expected number, received NaN' },
      { record: 'line 6', reason: 'side "hold": expected buy or sell' },
    ])
    expect(messages.map((m) => m.type === 'import.trade' && [m.id, m.symbol, m.intent, m.position_id, m.exit_reason])).toEqual([
      ['import:trades-csv:swing:T-1', 'ORCL', 'entry', 'import:trades-csv:swing:ORCL:1', null],
      ['import:trades-csv:swing:T-2', 'ORCL', 'exit', 'import:trades-csv:swing:ORCL:1', 'take_profit'],
      ['import:trades-csv:swing:T-3', 'BRK-B', 'entry', 'import:trades-csv:swing:BRK-B:1', null],
    ])
  })
})
