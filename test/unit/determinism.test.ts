// SPEC §3.1: an actor's output is a function of its ordered input stream and its config. The same
// history through a fresh handler must give byte-identical outputs, every time, whatever the
// handler's state was checkpointed through.
import { describe, expect, it } from 'vitest'
import type { Inbound } from '../../src/core/actor.js'
import { parseConfig } from '../../src/config/env.js'
import type { Message } from '../../src/core/contracts.js'
import { handlers, replayActor, runPipeline, type PipelineActor, type PipelineResult } from '../support/pipeline.js'
import { lookupsFrom } from '../support/actor-spec.js'
import { prng, syntheticBars } from '../../src/app/synthetic-bars.js'

const config = parseConfig({
  accounts: [
    {
      id: 'main',
      starting_cash: 25000,
      costs: { commission_pct: 0.001, commission_per_share: 0.005, commission_min: 1, slippage_bps: 3 },
      risk: { max_lot_size: 150, max_concurrent_trades: 2, min_confidence_threshold: 45 },
    },
  ],
  strategies: [
    {
      id: 'sma-cross',
      account: 'main',
      symbols: ['ORCL', 'MSFT'],
      timeframe: '1d',
      indicators: { fast: { type: 'sma', period: 5 }, slow: { type: 'sma', period: 15 } },
      entry: { long: { crossesAbove: ['fast', 'slow'] } },
      exit: { long: { crossesBelow: ['fast', 'slow'] } },
      sizing: { fixed_qty: 100 },
    },
    {
      id: 'ema-trend',
      account: 'main',
      symbols: ['AAPL'],
      timeframe: '1d',
      indicators: { trend: { type: 'ema', period: 8 }, base: { type: 'sma', period: 20, source: 'low' } },
      entry: { long: { all: [{ crossesAbove: ['close', 'trend'] }, { not: { lt: ['close', 'base'] } }] } },
      exit: { long: { any: [{ crossesBelow: ['close', 'trend'] }, { lt: ['close', 'base'] }] } },
      sizing: { fixed_qty: 120 },
      confidence: {
        base: 50,
        adjust: [
          { when: { gt: ['close', 'base'] }, add: 20 },
          { when: { gt: ['volume', 1200000] }, add: -30 },
        ],
      },
    },
  ],
})

/**
 * A random-ish history: three watched symbols and one unwatched, interleaved in a shuffled order per
 * day, plus re-sent (duplicate) and late (out-of-order) bars and an unwatched timeframe.
 */
function history(days: number, seed: number) {
  const rand = prng(seed)
  const series = Object.fromEntries(['ORCL', 'MSFT', 'AAPL', 'IBM'].map((s, i) => [s, syntheticBars(days, { seed: seed * 10 + i, price: 20 + 40 * i })]))
  const out: { symbol: string; bar: Message<'md.in.bar'>; msgId?: string }[] = []
  for (let d = 0; d < days; d++) {
    const symbols = Object.keys(series).sort(() => rand() - 0.5)
    for (const symbol of symbols) {
      const b = series[symbol]![d]!
      out.push({ symbol, bar: { ...b }, msgId: rand() < 0.5 ? `feed:${symbol}:${b.ts}` : undefined })
      if (rand() < 0.05) out.push({ symbol, bar: { ...b } }) // re-sent
      if (d > 2 && rand() < 0.03) out.push({ symbol, bar: { ...series[symbol]![d - 2]! } }) // late
      if (rand() < 0.02) out.push({ symbol, bar: { ...b, timeframe: '1h' } }) // unwatched timeframe
    }
  }
  return out
}

const ACTORS: PipelineActor[] = ['market-snapshots', 'indicators', 'strategy', 'risk-gate', 'paper-executor', 'persister']
const json = (x: unknown) => JSON.stringify(x)

describe('determinism', () => {
  const input = history(300, 5)
  let first: PipelineResult

  it('the history exercises every actor: bars, indicators, ideas, every verdict, fills, closes', async () => {
    first = await runPipeline(config, input)
    const types = (a: PipelineActor) => new Set(first.record[a].outputs.map((o) => o.type))
    expect(types('market-snapshots')).toEqual(new Set(['md.bar']))
    expect(types('indicators')).toEqual(new Set(['md.ind']))
    expect(types('strategy')).toEqual(new Set(['trade.idea']))
    expect(types('paper-executor').has('trade.fill')).toBe(true)
    const statuses = new Set(
      first.record['risk-gate'].outputs.filter((o) => o.type === 'trade.idea_status').map((o) => (o.data as Message<'trade.idea_status'>).status),
    )
    expect([...statuses].sort()).toEqual(['auto_executed', 'needs_approval', 'rejected'])
    const closed = first.record['paper-executor'].outputs.filter(
      (o) => o.type === 'trade.position' && (o.data as Message<'trade.position'>).status === 'closed',
    )
    expect(closed.length).toBeGreaterThan(3)
    expect(first.record.persister.writes.length).toBeGreaterThan(1000)
  })

  it('the whole pipeline run twice gives byte-identical outputs and rows for every actor', async () => {
    const second = await runPipeline(config, input)
    for (const actor of ACTORS) {
      expect(json(second.record[actor].outputs), actor).toBe(json(first.record[actor].outputs))
      expect(json(second.record[actor].writes), actor).toBe(json(first.record[actor].writes))
    }
    expect(json(second.streams.log)).toBe(json(first.streams.log))
  })

  it.each(ACTORS)('%s: its recorded input history through a fresh handler, twice, gives byte-identical outputs', async (actor) => {
    const inputs = first.record[actor].inputs
    expect(inputs.length).toBeGreaterThan(0)
    const bars = first.streams.log.filter((m): m is Inbound<'md.bar'> => m.type === 'md.bar')
    const a = await replayActor(config, actor, inputs, actor === 'risk-gate' ? bars : undefined)
    const b = await replayActor(config, actor, inputs, actor === 'risk-gate' ? bars : undefined)
    expect(json(b.outputs)).toBe(json(a.outputs))
    expect(json(b.writes)).toBe(json(a.writes))
    // …and they are exactly what the actor published in the pipeline run.
    expect(json(a.outputs)).toBe(json(first.record[actor].outputs))
    expect(json(a.writes)).toBe(json(first.record[actor].writes))
  })

  it('a different history gives different outputs (the comparison is not vacuous)', async () => {
    const other = await runPipeline(config, history(300, 6))
    expect(json(other.record.strategy.outputs)).not.toBe(json(first.record.strategy.outputs))
  })

  it('risk-gate: with every idea ahead of the executor’s fills (a replay), it makes the same decisions as live', async () => {
    // Replays run the strategy (and so the gate's ideas) far ahead of the executor's fills. The gate
    // judges each idea as of its bar, so it must reach the same verdicts, orders and audit entries.
    const live = first.record['risk-gate']
    const ideas = live.inputs.filter((i) => i.type === 'trade.idea')
    const books = live.inputs.filter((i) => i.type !== 'trade.idea')
    expect(ideas.length).toBeGreaterThan(10)
    const bars = first.streams.log.filter((m): m is Inbound<'md.bar'> => m.type === 'md.bar')
    const ahead = await replayActor(config, 'risk-gate', [...ideas, ...books], bars)
    const byId = (xs: { data: { id: string } }[]) => xs.map((x) => json(x.data)).sort()
    expect(byId(ahead.outputs)).toEqual(byId(live.outputs))
  })

  it('the executor makes the same fills at the same prices when every bar is already stored', async () => {
    const live = first.record['paper-executor']
    const allBars = first.streams.log.filter((m): m is Inbound<'md.bar'> => m.type === 'md.bar')
    const h = handlers(
      config,
      lookupsFrom(() => allBars),
    )
    const fills: unknown[] = []
    for (const input of live.inputs) for (const out of (await h['paper-executor'](input)).emit ?? []) if (out.type === 'trade.fill') fills.push(out.data)
    const liveFills = live.outputs.filter((o) => o.type === 'trade.fill').map((o) => o.data)
    // Fills of different symbols on the same bar time may come out in another order (order arrival vs
    // bar arrival); each fill itself — bar, price, qty, commission — must be the same.
    const sorted = (xs: unknown[]) => xs.map(json).sort()
    expect(sorted(fills)).toEqual(sorted(liveFills))
  })
})
