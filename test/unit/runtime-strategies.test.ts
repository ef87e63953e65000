// Strategies defined at runtime, as pure parts: the check a put goes through (the config file's, with
// paths), the gate taking a version (watchlist, trade.strategy, idempotent), and the indicator and
// strategy scopes taking one — after which a runtime strategy proposes exactly what the same strategy
// written in the config file proposes.
import { describe, expect, it } from 'vitest'
import { indicators, type IndicatorsState } from '../../actors/indicators.js'
import { handleRisk } from '../../actors/risk-gate.js'
import { newRiskState } from '../../actors/risk-gate/state.js'
import { strategy, type StrategyState } from '../../actors/strategy.js'
import { parseConfig } from '../../src/config/env.js'
import type { ActorDef, Inbound, Scope } from '../../src/core/actor.js'
import type { StrategyConfig } from '../../src/core/config-file/strategies.js'
import type { Bar, Message } from '../../src/core/contracts.js'
import { partitionOf } from '../../src/core/partition.js'
import { type RuntimeStrategy, validateRuntimeStrategy } from '../../src/core/runtime-strategies.js'
import { inbound, ofType } from '../support/actor-spec.js'
import { message } from '../support/messages.js'

const cross = {
  id: 'cross',
  account: 'main',
  symbols: ['ORCL'],
  indicators: { fast: { type: 'sma', period: 2 }, slow: { type: 'sma', period: 3 } },
  entry: { long: { crossesAbove: ['fast', 'slow'] } },
  exit: { long: { crossesBelow: ['fast', 'slow'] } },
  sizing: { fixed_qty: 1 },
}
const file = parseConfig({
  accounts: [{ id: 'main', starting_cash: 10_000 }],
  strategies: [
    { ...cross, id: 'in-file', symbols: ['AAPL'], indicators: { fast: { type: 'ema', period: 5 } }, entry: { long: { gt: ['close', 'fast'] } }, exit: {} },
  ],
})
const defined = (raw: Record<string, unknown>, others: StrategyConfig[] = []) => validateRuntimeStrategy(raw, file, others)
const version = (v: number, s: StrategyConfig | null, id = 'cross'): RuntimeStrategy => ({
  id,
  version: v,
  account: 'main',
  strategy: s,
  by: 'alice',
  at: '2026-01-01T00:00:00Z',
})
const ok = (r: ReturnType<typeof defined>) => {
  if (!r.ok) throw new Error(r.error)
  return r.strategy
}

describe('a runtime strategy is checked as the config file checks one', () => {
  it('takes a valid one with the file’s defaults', () => {
    expect(ok(defined(cross))).toMatchObject({ type: 'rules', timeframe: '1d', id: 'cross' })
  })
  it('names the path of a problem: shape, reference, account', () => {
    expect(defined({ ...cross, sizing: { fixed_qty: -1 } })).toEqual({ ok: false, error: expect.stringMatching(/^strategy\.sizing\.fixed_qty: /) })
    expect(defined({ ...cross, entry: { long: { gt: ['close', 'nope'] } } })).toEqual({
      ok: false,
      error: 'strategy.entry.long.gt[1]: "nope" is neither a declared indicator nor a bar field',
    })
    expect(defined({ ...cross, account: 'other' })).toEqual({ ok: false, error: expect.stringMatching(/^strategy\.account: .*other/) })
  })
  it('refuses the id of a config-file strategy (the file is where it changes) and a Gayed strategy', () => {
    expect(defined({ ...cross, id: 'in-file' })).toEqual({
      ok: false,
      error: 'strategy.id: "in-file" is defined in the config file (strategies[0]); change it there',
    })
    expect(defined({ ...cross, type: 'gayed' })).toMatchObject({ ok: false, error: expect.stringMatching(/^strategy\.type: /) })
  })
  it('checks it beside the other runtime strategies: one name on one symbol means one indicator', () => {
    const other = ok(defined({ ...cross, id: 'other' }))
    expect(defined({ ...cross, indicators: { fast: { type: 'sma', period: 4 }, slow: { type: 'sma', period: 3 } } }, [other])).toEqual({
      ok: false,
      error: expect.stringMatching(/^strategy\.indicators\.fast: "fast" on ORCL 1d is declared differently by strategy "other"/),
    })
    // Its own earlier version is replaced, not compared with.
    expect(defined({ ...cross, indicators: { fast: { type: 'sma', period: 4 }, slow: { type: 'sma', period: 3 } } }, [ok(defined(cross))]).ok).toBe(true)
  })
})

describe('the risk gate takes a version of a runtime strategy', () => {
  const account = file.accounts[0]!
  const command = (verb: 'strategy_put' | 'strategy_delete', v: number, s: StrategyConfig | null, n: number) =>
    inbound(
      'trade.command',
      message('trade.command', { id: `cmd:${verb}:main:${n}`, command: verb, strategy_id: 'cross', strategy: s as Record<string, unknown> | null, version: v }),
      { seq: n },
    )
  it('records its watchlist and the version, once; a delete removes it', () => {
    const state = newRiskState(10_000, account.risk)
    const s = ok(defined(cross))
    const put = handleRisk(state, command('strategy_put', 1, s, 1), account, new Map())
    expect(state.runtime).toEqual({ cross: { version: 1, symbols: ['ORCL'] } })
    expect(ofType(put.emit ?? [], 'trade.strategy')).toEqual([
      expect.objectContaining({ id: 'strategy:cross:v1', strategy_id: 'cross', version: 1, action: 'put', definition: s, updated_by: 'ops' }),
    ])
    expect(ofType(put.emit ?? [], 'trade.command_status')[0]).toMatchObject({ ok: true, detail: { strategy: 'cross', version: 1, applied: true } })
    const again = handleRisk(state, command('strategy_put', 1, s, 2), account, new Map())
    expect(ofType(again.emit ?? [], 'trade.strategy')).toEqual([])
    expect(ofType(again.emit ?? [], 'trade.command_status')[0]).toMatchObject({ ok: true, detail: { applied: false } })
    // Known now: it can be disabled like a strategy of the file.
    const disable = handleRisk(
      state,
      inbound('trade.command', message('trade.command', { id: 'cmd:d', command: 'strategy_disable', strategy_id: 'cross' }), { seq: 3 }),
      account,
      new Map(),
    )
    expect(ofType(disable.emit ?? [], 'trade.command_status')[0]).toMatchObject({ ok: true })
    const gone = handleRisk(state, command('strategy_delete', 2, null, 4), account, new Map())
    expect(state.runtime).toEqual({})
    expect(ofType(gone.emit ?? [], 'trade.strategy')[0]).toMatchObject({ id: 'strategy:cross:v2', action: 'delete', definition: null })
  })
})

/** A partition's scope of an actor, with its inputs. */
const scopeOf = (def: ActorDef<unknown>, symbol: string): Scope => def.scopes.find((s) => s.partition === partitionOf(symbol, 16))!

function bar(day: number, close: number): Bar {
  const ts = new Date(Date.UTC(2024, 0, day)).toISOString()
  const id = `bar:ORCL:1d:${ts}`
  return message('md.bar', {
    id,
    ts,
    causation_id: `in:${day}`,
    correlation_id: id,
    symbol: 'ORCL',
    timeframe: '1d',
    open: close,
    high: close + 1,
    low: close - 1,
    close,
    volume: 1000,
  })
}
const closes = [10, 9, 8, 9, 11, 12, 11, 9, 8, 10, 12, 13, 12, 10]

/** Bars through the indicators and strategy handlers; `take` runs before the bar of that index. */
function run(
  ind: ActorDef<IndicatorsState>,
  strat: ActorDef<StrategyState>,
  take: Record<number, (i: IndicatorsState, s: StrategyState) => [IndicatorsState, StrategyState]> = {},
) {
  let i = ind.init(scopeOf(ind as ActorDef<unknown>, 'ORCL'))
  let s = strat.init(scopeOf(strat as ActorDef<unknown>, 'ORCL'))
  const ideas: Message<'trade.idea'>[] = []
  closes.forEach((close, k) => {
    if (take[k]) [i, s] = take[k]!(i, s)
    const step = ind.handle(i, inbound('md.bar', bar(k + 1, close), { seq: k + 1 }), scopeOf(ind as ActorDef<unknown>, 'ORCL'), [])
    i = step.state
    for (const out of ofType(step.emit ?? [], 'md.ind')) {
      const next = strat.handle(s, inbound('md.ind', out, { seq: 100 + k }) as Inbound, scopeOf(strat as ActorDef<unknown>, 'ORCL'), [])
      s = next.state
      ideas.push(...ofType(next.emit ?? [], 'trade.idea'))
    }
  })
  return ideas
}

describe('the indicator and strategy scopes take a runtime strategy', () => {
  const s = ok(defined(cross))
  const inFile = parseConfig({ accounts: [{ id: 'main', starting_cash: 10_000 }], strategies: [cross] })

  it('and from then on it proposes what the same strategy in the config file proposes', () => {
    const reference = run(indicators(inFile.strategies), strategy(inFile.strategies, inFile.accounts))
    expect(reference.length).toBeGreaterThan(1)
    const ind = indicators(file.strategies)
    const strat = strategy(file.strategies, file.accounts)
    const scopeI = scopeOf(ind as ActorDef<unknown>, 'ORCL')
    const scopeS = scopeOf(strat as ActorDef<unknown>, 'ORCL')
    expect(ind.runtimeStrategies!.concerns(ind.init(scopeI), version(1, s), scopeI)).toBe(true)
    expect(ind.runtimeStrategies!.concerns(ind.init(scopeI), version(1, s), { ...scopeI, partition: (scopeI.partition! + 1) % 16 })).toBe(false)
    const ideas = run(ind, strat, {
      0: (i, st) => [ind.runtimeStrategies!.define(i, version(1, s), scopeI), strat.runtimeStrategies!.define(st, version(1, s), scopeS)],
    })
    expect(ideas).toEqual(reference)
    expect(strat.runtimeStrategies!.applied(strat.runtimeStrategies!.define(strat.init(scopeS), version(3, s), scopeS))).toEqual({ cross: 3 })
  })

  it('a new version restarts an indicator declared anew under its name; a deletion stops its ideas', () => {
    const ind = indicators(file.strategies)
    const strat = strategy(file.strategies, file.accounts)
    const scopeI = scopeOf(ind as ActorDef<unknown>, 'ORCL')
    const scopeS = scopeOf(strat as ActorDef<unknown>, 'ORCL')
    let i = ind.runtimeStrategies!.define(ind.init(scopeI), version(1, s), scopeI)
    for (let k = 0; k < 4; k++) i = ind.handle(i, inbound('md.bar', bar(k + 1, closes[k]!), { seq: k + 1 }), scopeI, []).state
    expect(Object.keys(i.series['ORCL|1d']!).sort()).toEqual(['fast', 'slow'])
    const slower = ok(defined({ ...cross, indicators: { fast: { type: 'sma', period: 2 }, slow: { type: 'sma', period: 4 } } }))
    i = ind.runtimeStrategies!.define(i, version(2, slower), scopeI)
    expect(Object.keys(i.series['ORCL|1d']!)).toEqual(['fast'])
    i = ind.runtimeStrategies!.define(i, version(3, null), scopeI)
    expect(ind.handle(i, inbound('md.bar', bar(9, 10), { seq: 9 }), scopeI, []).outcome).toBe('unwatched')
    // The strategy scope lets its books go with it, and proposes nothing more.
    const ideas = run(ind, strat, {
      0: (a, b) => [ind.runtimeStrategies!.define(a, version(1, s), scopeI), strat.runtimeStrategies!.define(b, version(1, s), scopeS)],
      6: (a, b) => [a, strat.runtimeStrategies!.define(b, version(2, null), scopeS)],
    })
    expect(ideas.every((x) => x.ts < bar(7, 0).ts)).toBe(true)
  })

  it('one whose id the config file defines is left alone: the file wins', () => {
    const ind = indicators(file.strategies)
    const scopeI = scopeOf(ind as ActorDef<unknown>, 'AAPL')
    expect(ind.runtimeStrategies!.concerns(ind.init(scopeI), version(1, { ...s, id: 'in-file', symbols: ['AAPL'] }, 'in-file'), scopeI)).toBe(false)
  })
})
