// `paperd ctl …`: the control requests (requests.ts) as commands a person types — the subject, the
// body built from arguments, and the answer as readable lines (or the reply as it came, --json).
// Thin on purpose: every check and every answer is the control plane's, exactly as over `nats req`.
import { readFileSync } from 'node:fs'
import type { ControlSubject } from './requests.js'

type Reply = Record<string, unknown> & { ok: boolean }

interface CtlCommand {
  /** The words after `paperd ctl` (`risk set`). */
  words: string[]
  /** Positional arguments after the account, by name. */
  args: string[]
  description: string
  subject: ControlSubject
  /** Whether the request names who asks (`by`). */
  by: boolean
  /** `--reason` is taken (optional unless `reasonRequired`). */
  reason?: 'optional' | 'required'
  body(account: string, args: string[]): Record<string, unknown>
  show(reply: Reply): string
}

const money = (x: unknown) => (typeof x === 'number' ? x.toFixed(2) : '—')
const num = (x: unknown) => (x === null || x === undefined ? '—' : String(x))

/** Rows as aligned columns. */
function table(head: string[], rows: unknown[][]): string {
  const cells = [head, ...rows.map((r) => r.map(num))]
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** `max_lot_size=100 halt_on_drawdown=true max_drawdown_amount=null` → the risk patch (values read as JSON, else text). */
function riskPatch(assignments: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const a of assignments) {
    const eq = a.indexOf('=')
    if (eq <= 0) throw new Error(`"${a}": expected FIELD=VALUE, e.g. max_lot_size=100`)
    const raw = a.slice(eq + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      // a word: passed as text, and the control plane says what the field expects
    }
    out[a.slice(0, eq)] = value
  }
  return out
}

/** A strategy from a JSON file (`-`: standard input), for the account named on the command line. */
function strategyFile(account: string, file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let strategy: unknown
  try {
    strategy = JSON.parse(text)
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`)
  }
  if (typeof strategy !== 'object' || strategy === null || Array.isArray(strategy)) throw new Error(`${file}: expected one strategy, a JSON object`)
  const s = strategy as Record<string, unknown>
  if (s.account !== undefined && s.account !== account) throw new Error(`${file} is a strategy of account ${JSON.stringify(s.account)}, not ${account}`)
  return { ...s, account }
}

const done = (what: string) => (r: Reply) => `${what}${r.command_id ? ` (command ${String(r.command_id)})` : ''}`

export const CTL_COMMANDS: CtlCommand[] = [
  {
    words: ['portfolio'],
    args: [],
    description: "the account's books: cash, equity, positions, working orders",
    subject: 'ctl.portfolio.get',
    by: false,
    body: (account) => ({ account }),
    show: (r) => {
      const positions = (r.positions as Record<string, unknown>[]) ?? []
      const orders = (r.working_orders as Record<string, unknown>[]) ?? []
      return [
        `${String(r.account)}: cash ${money(r.cash)}, equity ${money(r.equity)}, realized ${money(r.realized_pnl)}, unrealized ${money(r.unrealized_pnl)}, drawdown ${money(r.drawdown)}, ${num(r.trade_count)} trades (${num(r.winning_trades)} won)`,
        positions.length
          ? table(
              ['symbol', 'side', 'qty', 'avg price', 'mark', 'unrealized', 'stop', 'target', 'opened'],
              positions.map((p) => [p.symbol, p.side, p.qty, p.avg_price, p.mark, money(p.unrealized_pnl), p.stop_price, p.target_price, p.opened_at]),
            )
          : 'no positions',
        orders.length
          ? table(
              ['order', 'symbol', 'side', 'intent', 'qty', 'type'],
              orders.map((o) => [o.order_id, o.symbol, o.side, o.intent, o.qty, o.order_type]),
            )
          : 'no working orders',
      ].join('\n')
    },
  },
  {
    words: ['risk', 'get'],
    args: [],
    description: 'the risk settings as they apply, and whether the account is halted',
    subject: 'ctl.risk.get',
    by: false,
    body: (account) => ({ account }),
    show: (r) =>
      [
        r.halted ? `halted (${String(r.last_halt_reason ?? 'manual')})` : 'not halted',
        ...Object.entries((r.risk as Record<string, unknown>) ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
      ].join('\n'),
  },
  {
    words: ['risk', 'set'],
    args: ['field=value...'],
    description: 'change risk settings, e.g. max_lot_size=100 halt_on_drawdown=true',
    subject: 'ctl.risk.set',
    by: true,
    body: (account, args) => ({ account, risk: riskPatch(args) }),
    show: (r) =>
      [done('risk settings changed')(r), ...Object.entries((r.risk as Record<string, unknown>) ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`)].join(
        '\n',
      ),
  },
  {
    words: ['halt'],
    args: [],
    description: 'halt new entries (exits still pass)',
    subject: 'ctl.risk.halt',
    by: true,
    reason: 'required',
    body: (account) => ({ account }),
    show: (r) => done(`halted (${String(r.last_halt_reason)})`)(r),
  },
  {
    words: ['resume'],
    args: [],
    description: 'lift a halt',
    subject: 'ctl.risk.resume',
    by: true,
    body: (account) => ({ account }),
    show: done('resumed'),
  },
  {
    words: ['pending'],
    args: [],
    description: 'ideas waiting for a person',
    subject: 'ctl.ideas.pending',
    by: false,
    body: (account) => ({ account }),
    show: (r) => {
      const ideas = (r.ideas as Record<string, unknown>[]) ?? []
      return ideas.length
        ? table(
            ['idea', 'strategy', 'symbol', 'side', 'qty', 'confidence', 'signal bar', 'expires'],
            ideas.map((i) => [i.id, i.strategy_id, i.symbol, i.side, i.qty, i.confidence, i.ts, i.expires_at]),
          )
        : 'no idea waits for approval'
    },
  },
  {
    words: ['approve'],
    args: ['idea'],
    description: 'approve a waiting idea (every limit is checked again)',
    subject: 'ctl.ideas.approve',
    by: true,
    body: (account, [id]) => ({ account, id }),
    show: (r) => done(`${String(r.status)}${r.reason ? ` (${String(r.reason)})` : ''}`)(r),
  },
  {
    words: ['reject'],
    args: ['idea'],
    description: 'reject a waiting idea',
    subject: 'ctl.ideas.reject',
    by: true,
    reason: 'optional',
    body: (account, [id]) => ({ account, id }),
    show: (r) => done(`${String(r.status)}${r.reason ? ` (${String(r.reason)})` : ''}`)(r),
  },
  {
    words: ['close'],
    args: ['symbol'],
    description: 'close a position at the next bar of its symbol',
    subject: 'ctl.positions.close',
    by: true,
    body: (account, [symbol]) => ({ account, symbol }),
    show: (r) => done(`closing${r.order_id ? ` with order ${String(r.order_id)}` : ''}`)(r),
  },
  {
    words: ['cancel'],
    args: ['order'],
    description: 'cancel a working order',
    subject: 'ctl.orders.cancel',
    by: true,
    body: (account, [order_id]) => ({ account, order_id }),
    show: done('cancelled'),
  },
  {
    words: ['strategies', 'list'],
    args: [],
    description: "the account's strategies and whether each may enter",
    subject: 'ctl.strategies.list',
    by: false,
    body: (account) => ({ account }),
    show: (r) => {
      const list = (r.strategies as Record<string, unknown>[]) ?? []
      return list.length
        ? table(
            ['strategy', 'from', 'version', 'symbols', 'enabled', 'disabled by'],
            list.map((s) => [s.id, s.source, s.version, Array.isArray(s.symbols) ? s.symbols.join(' ') : undefined, s.enabled ? 'yes' : 'no', s.disabled_by]),
          )
        : 'no strategies'
    },
  },
  {
    words: ['strategies', 'enable'],
    args: ['strategy'],
    description: "let a strategy's entries through again",
    subject: 'ctl.strategies.enable',
    by: true,
    body: (account, [id]) => ({ account, id }),
    show: (r) => done(`${String(r.strategy)} enabled`)(r),
  },
  {
    words: ['strategies', 'disable'],
    args: ['strategy'],
    description: "reject a strategy's entries (exits still pass)",
    subject: 'ctl.strategies.disable',
    by: true,
    body: (account, [id]) => ({ account, id }),
    show: (r) => done(`${String(r.strategy)} disabled`)(r),
  },
  {
    words: ['strategies', 'put'],
    args: ['file'],
    description: 'define or change a strategy from a JSON file (config-file syntax; - reads standard input): it trades from the next bar',
    subject: 'ctl.strategies.put',
    by: true,
    body: (account, [file]) => ({ strategy: strategyFile(account, file!) }),
    show: (r) => `${String(r.strategy)} version ${num(r.version)} in force`,
  },
  {
    words: ['strategies', 'delete'],
    args: ['strategy'],
    description: 'delete a strategy defined at runtime (its open positions stay: close them with `close`)',
    subject: 'ctl.strategies.delete',
    by: true,
    body: (account, [id]) => ({ account, id }),
    show: (r) => `${String(r.strategy)} deleted (version ${num(r.version)})`,
  },
]
