// Cross-references, checked once the shape is right: accounts and strategies defined once, every
// strategy's account known, every operand a declared indicator output or a bar field, a name meaning
// one indicator per symbol and timeframe, and the fields that need another (rr needs a stop, …).
import type { z } from 'zod'
import type { AccountConfig } from './accounts.js'
import { type Feed, feedKey, feedSymbols, feedTimeframe } from './feeds.js'
import { isBarField, operandNames } from '../indicator-kinds.js'
import { operandsOf, type Condition } from './conditions.js'
import type { AnyStrategyConfig } from './strategies.js'

export function checkReferences(cfg: { accounts: AccountConfig[]; strategies: AnyStrategyConfig[]; feeds: Feed[] }, ctx: z.RefinementCtx) {
  const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i)
  for (const id of duplicates(cfg.feeds.map(feedKey))) ctx.addIssue({ code: 'custom', path: ['feeds'], message: `feed "${id}" is defined twice` })
  // Two feeds of one series would race each other's bars; one series, one source.
  const series = new Map<string, number>()
  cfg.feeds.forEach((f, i) => {
    const timeframe = feedTimeframe(f)
    const kind = timeframe ? `${timeframe} bars` : 'context'
    for (const symbol of feedSymbols(f)) {
      const key = `${symbol} ${kind}`
      const first = series.get(key)
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['feeds', i], message: `${symbol}'s ${kind} already come from feeds[${first}]` })
      else series.set(key, i)
    }
  })
  for (const id of duplicates(cfg.accounts.map((a) => a.id))) ctx.addIssue({ code: 'custom', path: ['accounts'], message: `account "${id}" is defined twice` })
  for (const id of duplicates(cfg.strategies.map((s) => s.id)))
    ctx.addIssue({ code: 'custom', path: ['strategies'], message: `strategy "${id}" is defined twice` })
  const accounts = new Set(cfg.accounts.map((a) => a.id))
  // The same name on the same symbol and timeframe must mean the same indicator: md.ind carries one value per name.
  const declared = new Map<string, { strategy: string; spec: string }>()
  cfg.strategies.forEach((s, i) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: ['strategies', i, ...path], message })
    if (!accounts.has(s.account)) issue(['account'], `unknown account "${s.account}"`)
    if (s.type === 'gayed') {
      if (s.sizing.risk_pct !== undefined) issue(['sizing', 'risk_pct'], 'the Gayed strategy has no stop: size it with fixed_qty or pct_equity')
      if (s.risk_on === s.defensive) issue(['defensive'], `"${s.defensive}" is also the risk_on symbol`)
      return
    }
    const names = new Set(operandNames(s.indicators))
    for (const name of Object.keys(s.indicators)) {
      if (isBarField(name)) issue(['indicators', name], `"${name}" is a bar field; give the indicator another name`)
    }
    const check = (cond: Condition | undefined, path: (string | number)[]) => {
      if (cond)
        for (const [operand, at] of operandsOf(cond, path)) {
          if (typeof operand === 'string' && !isBarField(operand) && !names.has(operand))
            issue(at, `"${operand}" is neither a declared indicator nor a bar field`)
        }
    }
    check(s.entry.long, ['entry', 'long'])
    check(s.entry.short, ['entry', 'short'])
    check(s.exit.long, ['exit', 'long'])
    check(s.exit.short, ['exit', 'short'])
    s.forbidden?.forEach((c, j) => check(c, ['forbidden', j]))
    s.confidence?.adjust.forEach((a, j) => check(a.when, ['confidence', 'adjust', j, 'when']))
    const stop = s.exit.stop_loss
    if (stop?.indicator !== undefined && s.indicators[stop.indicator]?.type !== 'atr') {
      issue(['exit', 'stop_loss', 'indicator'], `"${stop.indicator}" is not a declared atr indicator`)
    }
    if (s.exit.take_profit?.rr !== undefined && !stop) issue(['exit', 'take_profit', 'rr'], 'rr is a multiple of the stop distance: add exit.stop_loss')
    if (s.sizing.risk_pct !== undefined && !stop) issue(['sizing', 'risk_pct'], 'risk_pct needs exit.stop_loss (the risk is the stop distance)')
    if (s.rr_expectation !== undefined && !(stop && s.exit.take_profit)) issue(['rr_expectation'], 'rr_expectation needs exit.stop_loss and exit.take_profit')
    if (s.sizing.phase5 && !Object.values(s.indicators).some((spec) => spec.type === 'dpi')) {
      issue(['sizing', 'phase5'], 'Phase-5 sizing reads the DPI: declare one, e.g. "dpi": {"type": "dpi"}')
    }
    for (const symbol of s.symbols) {
      for (const [name, spec] of Object.entries(s.indicators)) {
        const key = `${symbol}|${s.timeframe}|${name}`
        const text = JSON.stringify(spec)
        const seen = declared.get(key)
        if (seen && seen.spec !== text)
          issue(['indicators', name], `"${name}" on ${symbol} ${s.timeframe} is declared differently by strategy "${seen.strategy}"`)
        declared.set(key, { strategy: s.id, spec: text })
      }
    }
  })
}
