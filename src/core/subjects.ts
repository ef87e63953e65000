// Subjects, built from and parsed by the templates of the contract table: the only code that turns a
// message into its subject, a subject back into its type and tokens, or a type into a NATS filter.
import { contracts, messageTypes, type MessageType } from './contracts.js'
import { Memo } from './memo.js'
import { partitionOf } from './partition.js'

/** Each template as literal pieces and token names, parsed once. */
const builders = Object.fromEntries(
  (Object.keys(contracts) as MessageType[]).map((type) => [
    type,
    contracts[type].subject.split('.').map((t) => (t.startsWith('{') ? { key: t.slice(1, -1) } : t)),
  ]),
) as Record<MessageType, (string | { key: string })[]>

/** The concrete subject a message is published on. */
export function subjectOf(type: MessageType, data: Record<string, unknown>, partitions: number): string {
  let subject = ''
  for (const part of builders[type]) {
    let token: unknown = part
    if (typeof part !== 'string') {
      token = part.key === 'partition' ? String(partitionOf(String(data.symbol), partitions)) : data[part.key]
      if (typeof token !== 'string' || token === '') throw new Error(`${type}: no ${part.key} to build subject ${contracts[type].subject}`)
    }
    subject = subject ? `${subject}.${token as string}` : (token as string)
  }
  return subject
}

interface SubjectMatch {
  type: MessageType
  params: Record<string, string>
}

const templates = messageTypes.map((type) => {
  const tokens = contracts[type].subject.split('.')
  return { type, tokens }
})

const matched = new Memo<SubjectMatch | undefined>(parseSubject, 50_000)

/** Which contract a subject belongs to, and the values of its template tokens (memoised: the same few subjects repeat). */
export function matchSubject(subject: string): SubjectMatch | undefined {
  return matched.get(subject)
}

function parseSubject(subject: string): SubjectMatch | undefined {
  const tokens = subject.split('.')
  for (const t of templates) {
    if (t.tokens.length !== tokens.length) continue
    const params: Record<string, string> = {}
    let ok = true
    for (let i = 0; i < tokens.length && ok; i++) {
      const want = t.tokens[i]!
      const got = tokens[i]!
      if (want.startsWith('{')) params[want.slice(1, -1)] = got
      else ok = want === got
    }
    if (ok) return { type: t.type, params: Object.freeze(params) }
  }
  return undefined
}

/** A NATS wildcard filter for a contract, with some template tokens fixed (the rest become `*`). */
export function filterOf(type: MessageType, fixed: Record<string, string | number> = {}): string {
  return contracts[type].subject.replace(/\{(\w+)\}/g, (_, key: string) => (key in fixed ? String(fixed[key]) : '*'))
}

/** Everything about one account on the TRADE stream (ideas, decisions, orders, fills, books). */
export const accountFilter = (account: string): string => `trade.*.${account}`

/** NATS subject matching: `*` is one token, `>` the rest (one token or more). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.')
  const s = subject.split('.')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false
  }
  return f.length === s.length
}

/** Where raw market data for `symbol` is published (md.in.* subjects are not partitioned). */
export const inputSubject = (type: 'md.in.bar' | 'md.in.context', symbol: string): string => filterOf(type, { symbol })
