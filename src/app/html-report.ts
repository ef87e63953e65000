// `paperd backtest --html report.html`: one self-contained page — uPlot (from npm) and the data inlined,
// no network reference — with, per account, the headline numbers against buy-and-hold, the equity
// curve beside buy-and-hold, the drawdown, each symbol's price with the entries and exits, and the
// trade list.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ConfigFile } from '../core/config-file.js'
import type { BacktestInput } from './backtest.js'
import { type accountReport, equityCurve, type ReportAccount, type ReportRun } from './backtest-report.js'

type Report = ReturnType<typeof accountReport>

interface AccountPage {
  id: string
  report: Report
  buyAndHold: number
  equity: number[]
  benchmark: (number | null)[]
  drawdown: number[]
  symbols: { symbol: string; close: (number | null)[]; buys: (number | null)[]; sells: (number | null)[] }[]
  trades: { symbol: string; side: string; qty: number; opened: string; closed: string | null; avg_price: number; pnl: number; exit_reason: string | null }[]
}

/** Text safe inside a <script> or <style> element. */
const inert = (text: string) => text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--')

/** The accounts to report, and the strategies that tell which symbols are each account's (none: every input). */
interface Scope {
  accounts: ReportAccount[]
  strategies: ConfigFile['strategies']
}

export function htmlReport(run: ReportRun, config: Scope, inputs: BacktestInput[], reports: Report[], title: string): string {
  const times = run.times
  const index = new Map(times.map((t, i) => [t, i]))
  const closes = new Map(
    inputs.map((input) => {
      const series: (number | null)[] = new Array(times.length).fill(null)
      for (const b of input.bars) {
        const i = index.get(b.ts)
        if (i !== undefined) series[i] = b.close
      }
      return [input.symbol, series]
    }),
  )
  const accounts: AccountPage[] = config.accounts.map((account, a) => {
    const report = reports[a]!
    const mine = new Set(
      config.strategies.filter((s) => s.account === account.id).flatMap((s) => ('symbols' in s ? s.symbols : [...Object.values(s.inputs ?? {})])),
    )
    const symbols = inputs
      .map((i) => i.symbol)
      .filter((s) => mine.size === 0 || mine.has(s) || run.fills.some((f) => f.account === account.id && f.symbol === s))
    const equity = Array.from(equityCurve(run, account))
    let peak = account.starting_cash
    const drawdown = equity.map((x) => ((peak = Math.max(peak, x)), peak > 0 ? (x - peak) / peak : 0))
    // Buy-and-hold: the starting cash spread evenly over the account's symbols at their first close.
    const firsts = symbols.map((s) => closes.get(s)!.find((c) => c !== null) ?? null)
    const benchmark = times.map((_, i) => {
      const ratios = symbols.flatMap((s, k) => {
        const series = closes.get(s)!
        let c: number | null = null
        for (let j = i; j >= 0 && c === null; j--) c = series[j]!
        return c !== null && firsts[k] ? [c / firsts[k]!] : []
      })
      return ratios.length ? (account.starting_cash * ratios.reduce((x, y) => x + y, 0)) / ratios.length : null
    })
    const lastBench = [...benchmark].reverse().find((b) => b !== null) ?? account.starting_cash
    // A closed position's message says qty 0: what it held is what its entries bought (or sold short).
    const entered = new Map<string, number>()
    for (const f of run.fills) if (f.account === account.id && f.intent === 'entry') entered.set(f.position_id, (entered.get(f.position_id) ?? 0) + f.qty)
    return {
      id: account.id,
      report: { ...report, fills: [] },
      buyAndHold: lastBench / account.starting_cash - 1,
      equity,
      benchmark,
      drawdown,
      symbols: symbols.map((symbol) => {
        const buys: (number | null)[] = new Array(times.length).fill(null)
        const sells: (number | null)[] = new Array(times.length).fill(null)
        for (const f of run.fills) {
          if (f.account !== account.id || f.symbol !== symbol) continue
          const i = index.get(f.ts)
          if (i !== undefined) (f.side === 'buy' ? buys : sells)[i] = f.price
        }
        return { symbol, close: closes.get(symbol)!, buys, sells }
      }),
      trades: run.positions
        .filter((p) => p.account === account.id && p.status === 'closed')
        .map((p) => ({
          symbol: p.symbol,
          side: p.side,
          qty: entered.get(p.position_id) ?? p.qty,
          opened: p.opened_at,
          closed: p.closed_at,
          avg_price: p.avg_price,
          pnl: p.realized_pnl,
          exit_reason: p.exit_reason,
        })),
    }
  })
  const require = createRequire(import.meta.url)
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8')
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8')
  const data = { title, times: times.map((t) => Date.parse(t) / 1000), accounts }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${inert(uplotCss)}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 32px; } h3 { font-size: 15px; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.numbers td:first-child { color: #555; }
.chart { margin: 8px 0 24px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div id="report"></div>
<script type="application/json" id="data">${inert(JSON.stringify(data))}</script>
<script>${inert(uplotJs)}</script>
<script>${inert(PAGE_SCRIPT)}</script>
</body>
</html>
`
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)

/** The page's own code: tables and charts from the inlined data. */
const PAGE_SCRIPT = `
window.addEventListener('error', (e) => console.error('report error: ' + e.message));
const data = JSON.parse(document.getElementById('data').textContent);
const root = document.getElementById('report');
const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };
const pct = (x) => x === null || x === undefined ? '—' : (x * 100).toFixed(2) + '%';
const num = (x, d = 2) => x === null || x === undefined || !isFinite(x) ? '—' : Number(x).toFixed(d);
const width = () => Math.max(480, Math.min(1100, root.clientWidth || 900));
function table(head, rows, cls) {
  const t = el('table'); if (cls) t.className = cls;
  const tr = el('tr'); head.forEach((h) => tr.appendChild(el('th', h))); t.appendChild(tr);
  rows.forEach((r) => { const row = el('tr'); r.forEach((c) => row.appendChild(el('td', String(c)))); t.appendChild(row); });
  return t;
}
function chart(title, series, values, opts = {}) {
  const box = el('div'); box.className = 'chart'; root.appendChild(box);
  new uPlot({ title, width: width(), height: opts.height || 260, series: [{}, ...series], axes: [{}, { values: opts.axis, size: 80 }], scales: { x: { time: true } } }, [data.times, ...values], box);
}
for (const a of data.accounts) {
  const r = a.report;
  root.appendChild(el('h2', 'Account ' + a.id));
  root.appendChild(table(['', 'strategy', 'buy and hold'], [
    ['total return', pct(r.total_return), pct(a.buyAndHold)],
    ['final equity', num(r.final_equity), ''],
    ['CAGR', pct(r.cagr), ''],
    ['Sharpe', num(r.sharpe), ''],
    ['Sortino', num(r.sortino), ''],
    ['max drawdown', pct(r.max_drawdown), ''],
    ['win rate', pct(r.win_rate), ''],
    ['profit factor', num(r.profit_factor), ''],
    ['exposure', pct(r.exposure), ''],
    ['round trips', r.trades, ''],
  ], 'numbers'));
  chart('Equity', [{ label: 'strategy', stroke: '#1f77b4', width: 2 }, { label: 'buy and hold', stroke: '#999', dash: [6, 4] }], [a.equity, a.benchmark]);
  chart('Drawdown', [{ label: 'drawdown', stroke: '#d62728', fill: 'rgba(214,39,40,0.15)' }], [a.drawdown], { height: 180, axis: (u, v) => v.map((x) => (x * 100).toFixed(0) + '%') });
  for (const s of a.symbols) {
    const marks = (stroke) => ({ stroke, width: 0, paths: () => null, points: { show: true, size: 9, fill: stroke } });
    chart(s.symbol + ': price, entries and exits', [{ label: s.symbol, stroke: '#333', spanGaps: true }, { label: 'buy', ...marks('#2ca02c') }, { label: 'sell', ...marks('#d62728') }], [s.close, s.buys, s.sells]);
  }
  root.appendChild(el('h3', 'Trades (' + a.trades.length + ')'));
  root.appendChild(table(['symbol', 'side', 'qty', 'opened', 'closed', 'avg price', 'P&L', 'exit'],
    a.trades.map((t) => [t.symbol, t.side, t.qty, t.opened.slice(0, 16).replace('T', ' '), (t.closed || '').slice(0, 16).replace('T', ' '), num(t.avg_price), num(t.pnl), t.exit_reason || ''])));
}
document.body.dataset.rendered = String(document.querySelectorAll('.uplot').length);
`
