// The control plane's contract (SPEC §5.3, §5.4): the public ctl.* subjects with the request each
// takes, which actor answers it, the internal subjects that route a request to the process running
// its account, and the validation every request goes through — with errors that say what is wrong.
// Every subject of the control plane is spelled here and nowhere else.
import { z } from 'zod'
import type { ActorName } from '../core/actor.js'
import { RiskPatch } from '../core/config-file/accounts.js'
import { ACCOUNT_PATTERN, SYMBOL_PATTERN } from '../core/schemas.js'

/** A value as an error message shows it: JSON-quoted, cut short. */
const shown = (v: unknown) => JSON.stringify(typeof v === 'string' && v.length > 40 ? `${v.slice(0, 40)}…` : v)
const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`)
const article = (what: string) => (/^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`)

/** A string field: missing or not a string says what it should be. */
const text = (what: string) =>
  z.string({ error: (iss) => (iss.input === undefined ? `missing (${article(what)})` : `expected a string (${article(what)}), got ${kindOf(iss.input)}`) })

/** An id with a fixed alphabet: a bad one is quoted back with the rule. */
const idField = (what: string, pattern: string, rule: string) =>
  text(what).regex(new RegExp(pattern), { error: (iss) => `${shown(iss.input)} is not a valid ${what}: use ${rule}` })

/** Free text of bounded length. */
const textField = (what: string, max: number) =>
  text(what)
    .min(1, { error: `empty (${article(what)})` })
    .max(max, { error: (iss) => `${(iss.input as string).length} characters long (${article(what)}): at most ${max}` })

const Account = idField('account id', ACCOUNT_PATTERN, '1-32 characters a-z 0-9 _ -')
const SymbolName = idField('symbol', SYMBOL_PATTERN, '1-32 characters A-Z 0-9 _ - (BRK.B is written BRK-B)')
const StrategyId = idField('strategy id', '^[A-Za-z0-9_-]{1,64}$', '1-64 characters A-Z a-z 0-9 _ -')
const By = textField('name', 100).describe('who asks')
const Reason = textField('reason', 150)
const RequestId = idField('request id', '^[A-Za-z0-9_.:-]{1,64}$', '1-64 characters A-Z a-z 0-9 _ . : -')
  .optional()
  .describe('makes a retried request idempotent')
const OrderId = textField('order id', 256)
const IdeaId = textField('idea id', 256)

const CONTROL_REQUESTS = {
  'ctl.portfolio.get': z.object({ account: Account }).strict(),
  'ctl.orders.cancel': z.object({ account: Account, order_id: OrderId, by: By, request_id: RequestId }).strict(),
  'ctl.positions.close': z.object({ account: Account, symbol: SymbolName, by: By, request_id: RequestId }).strict(),
  'ctl.risk.get': z.object({ account: Account }).strict(),
  'ctl.risk.set': z.object({ account: Account, by: By, risk: RiskPatch, request_id: RequestId }).strict(),
  'ctl.risk.halt': z.object({ account: Account, by: By, reason: Reason, request_id: RequestId }).strict(),
  'ctl.risk.resume': z.object({ account: Account, by: By, request_id: RequestId }).strict(),
  'ctl.ideas.pending': z.object({ account: Account }).strict(),
  'ctl.ideas.approve': z.object({ account: Account, id: IdeaId, by: By, request_id: RequestId }).strict(),
  'ctl.ideas.reject': z.object({ account: Account, id: IdeaId, by: By, reason: Reason.default('rejected by a person'), request_id: RequestId }).strict(),
  'ctl.strategies.list': z.object({ account: Account }).strict(),
  'ctl.strategies.enable': z.object({ account: Account, id: StrategyId, by: By, request_id: RequestId }).strict(),
  'ctl.strategies.disable': z.object({ account: Account, id: StrategyId, by: By, request_id: RequestId }).strict(),
  // The account is the strategy's own: the definition is checked whole where the account runs.
  'ctl.strategies.put': z
    .object({
      strategy: z.looseObject({ account: Account }, { error: (iss) => `expected a strategy object (config-file syntax), got ${kindOf(iss.input)}` }),
      by: By,
      request_id: RequestId,
    })
    .strict(),
  'ctl.strategies.delete': z.object({ account: Account, id: StrategyId, by: By, request_id: RequestId }).strict(),
} as const
export type ControlSubject = keyof typeof CONTROL_REQUESTS
export type ControlBody<S extends ControlSubject> = z.infer<(typeof CONTROL_REQUESTS)[S]>
export const CONTROL_SUBJECTS = Object.keys(CONTROL_REQUESTS) as ControlSubject[]

/** Which actor answers each control subject: the one whose account state it reads or changes. */
export const CONTROL_OWNERS: Record<ControlSubject, ActorName> = {
  'ctl.portfolio.get': 'paper-executor',
  'ctl.orders.cancel': 'paper-executor',
  'ctl.positions.close': 'paper-executor',
  'ctl.risk.get': 'risk-gate',
  'ctl.risk.set': 'risk-gate',
  'ctl.risk.halt': 'risk-gate',
  'ctl.risk.resume': 'risk-gate',
  'ctl.ideas.pending': 'risk-gate',
  'ctl.ideas.approve': 'risk-gate',
  'ctl.ideas.reject': 'risk-gate',
  'ctl.strategies.list': 'risk-gate',
  'ctl.strategies.enable': 'risk-gate',
  'ctl.strategies.disable': 'risk-gate',
  'ctl.strategies.put': 'risk-gate',
  'ctl.strategies.delete': 'risk-gate',
}

/** The account a request is about: its own field, or (ctl.strategies.put) the strategy's. */
export const accountOf = (body: ControlBody<ControlSubject>): string => ('account' in body ? body.account : body.strategy.account)

/**
 * Routing. The public subjects are front doors in one queue group, so exactly one process takes each
 * request; it forwards the request to `ctl.owner.<actor>.<account>.<noun>.<verb>`, which only the
 * process running that account's scope subscribes, and only while it runs it. Processes running an
 * actor also answer `ctl.owner.<actor>.running` with the accounts they run, to name them when nobody
 * runs the one asked for. A process's NATS user needs publish and subscribe on `ctl.owner.<actor>.>`.
 */
export const CONTROL_QUEUE = 'paperd-control'
const OWNER = 'ctl.owner'
export const ownerSubject = (actor: ActorName, account: string, subject: ControlSubject) => `${OWNER}.${actor}.${account}.${subject.slice('ctl.'.length)}`
export const ownerSubscription = (actor: ActorName, account: string) => `${OWNER}.${actor}.${account}.>`
export const runningSubject = (actor: ActorName) => `${OWNER}.${actor}.running`
/** What a NATS user running `actor` must be allowed to publish and subscribe for the routing. */
export const ownerPermission = (actor: ActorName) => `${OWNER}.${actor}.>`

/** The control subject an owner subject carries (`ctl.owner.risk-gate.main.risk.get` → `ctl.risk.get`), if it is one. */
export function controlSubjectOf(ownerSubjectText: string): { actor: string; account: string; subject: ControlSubject } | null {
  const [ctl, owner, actor, account, ...rest] = ownerSubjectText.split('.')
  const subject = `ctl.${rest.join('.')}`
  if (`${ctl}.${owner}` !== OWNER || !actor || !account || !Object.hasOwn(CONTROL_REQUESTS, subject)) return null
  return { actor, account, subject: subject as ControlSubject }
}

export type ControlReply = ({ ok: true } & Record<string, unknown>) | { ok: false; error: string }
export const fail = (error: string): ControlReply => ({ ok: false, error })

/** The answer of one running process to `ctl.owner.<actor>.running`. */
export interface RunningAccounts {
  /** Accounts whose scope is live here. */
  running: string[]
  /** Accounts this process runs that are still rebuilding their state. */
  starting: string[]
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A request's body, validated, or what is wrong with it (one line). */
export function parseRequest<S extends ControlSubject>(subject: S, data: Uint8Array): { ok: true; body: ControlBody<S> } | { ok: false; error: string } {
  let body: unknown = {}
  if (data.length) {
    let json: string
    try {
      json = utf8.decode(data)
    } catch {
      return { ok: false, error: 'request is not valid UTF-8 JSON (it holds bytes that are not UTF-8)' }
    }
    try {
      body = JSON.parse(json)
    } catch (err) {
      return { ok: false, error: `request is not JSON: ${(err as Error).message}` }
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, error: `request is ${kindOf(body)}, not a JSON object like {"account":"main"}` }
  const parsed = CONTROL_REQUESTS[subject].safeParse(body)
  if (parsed.success) return { ok: true, body: parsed.data as ControlBody<S> }
  const issue = parsed.error.issues[0]!
  return { ok: false, error: `${issue.path.length ? issue.path.join('.') : 'request'}: ${issue.message}` }
}
