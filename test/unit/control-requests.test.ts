// What a control request may be, and the error an operator gets when it is not: each names the field
// and says what is wrong with the value, and nothing is answered from bytes that are not UTF-8 JSON.
import { describe, expect, it } from 'vitest'
import { controlSubjectOf, ownerSubject, ownerSubscription, parseRequest, runningSubject } from '../../src/control/requests.js'
import { LiveStates } from '../../src/control/live-states.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const error = (subject: Parameters<typeof parseRequest>[0], body: unknown) => {
  const r = parseRequest(subject, typeof body === 'string' ? bytes(body) : body instanceof Uint8Array ? body : bytes(JSON.stringify(body)))
  return r.ok ? null : r.error
}

describe('control requests', () => {
  it('accepts the documented shapes (with their defaults)', () => {
    expect(parseRequest('ctl.portfolio.get', bytes('{"account":"main"}'))).toEqual({ ok: true, body: { account: 'main' } })
    expect(parseRequest('ctl.ideas.reject', bytes('{"account":"main","id":"idea:1","by":"carol"}'))).toEqual({
      ok: true,
      body: { account: 'main', id: 'idea:1', by: 'carol', reason: 'rejected by a person' },
    })
  })

  it.each([
    ['ctl.risk.get', { account: 'a"b' }, 'account: "a\\"b" is not a valid account id: use 1-32 characters a-z 0-9 _ -'],
    ['ctl.risk.get', { account: 'x'.repeat(50) }, `account: "${'x'.repeat(40)}…" is not a valid account id: use 1-32 characters a-z 0-9 _ -`],
    ['ctl.risk.get', { account: null }, 'account: expected a string (an account id), got null'],
    ['ctl.risk.get', { account: ['main'] }, 'account: expected a string (an account id), got an array'],
    ['ctl.risk.get', {}, 'account: missing (an account id)'],
    ['ctl.risk.get', '', 'account: missing (an account id)'],
    [
      'ctl.positions.close',
      { account: 'main', symbol: 'BRK.B', by: 'a' },
      'symbol: "BRK.B" is not a valid symbol: use 1-32 characters A-Z 0-9 _ - (BRK.B is written BRK-B)',
    ],
    ['ctl.strategies.disable', { account: 'main', id: 'x/y', by: 'a' }, 'id: "x/y" is not a valid strategy id: use 1-64 characters A-Z a-z 0-9 _ -'],
    ['ctl.orders.cancel', { account: 'main', order_id: '', by: 'a' }, 'order_id: empty (an order id)'],
    ['ctl.risk.resume', { account: 'main', by: 'b'.repeat(101) }, 'by: 101 characters long (a name): at most 100'],
    [
      'ctl.risk.halt',
      { account: 'main', by: 'a', reason: 'r', request_id: 'a b' },
      'request_id: "a b" is not a valid request id: use 1-64 characters A-Z a-z 0-9 _ . : -',
    ],
    ['ctl.risk.get', { account: 'main', extra: 1 }, 'request: Unrecognized key: "extra"'],
    ['ctl.risk.get', '[1]', 'request is an array, not a JSON object like {"account":"main"}'],
    ['ctl.risk.get', '"main"', 'request is a string, not a JSON object like {"account":"main"}'],
    ['ctl.risk.get', '{"account":', expect.stringMatching(/^request is not JSON: /)],
    ['ctl.risk.get', new Uint8Array([0x7b, 0xff, 0x7d]), 'request is not valid UTF-8 JSON (it holds bytes that are not UTF-8)'],
  ] as const)('%s %j → %s', (subject, body, message) => {
    expect(error(subject, body)).toEqual(message)
  })

  it('routes to a subject per actor and account, and reads it back', () => {
    expect(ownerSubject('risk-gate', 'main', 'ctl.risk.halt')).toBe('ctl.owner.risk-gate.main.risk.halt')
    expect(controlSubjectOf('ctl.owner.risk-gate.main.risk.halt')).toEqual({ actor: 'risk-gate', account: 'main', subject: 'ctl.risk.halt' })
    expect(controlSubjectOf('ctl.owner.risk-gate.main.toString')).toBeNull()
    expect(ownerSubscription('paper-executor', 'main')).toBe('ctl.owner.paper-executor.main.>')
    // The question "which accounts run?" is never taken for a request to an account called "running".
    expect(runningSubject('risk-gate').split('.')).toHaveLength(4)
    expect(ownerSubject('risk-gate', 'running', 'ctl.risk.get').split('.').length).toBeGreaterThan(4)
  })
})

describe('LiveStates', () => {
  it('tells its watchers when a scope goes live and when it stops, once each', () => {
    const states = new LiveStates()
    const seen: [string, boolean][] = []
    const unwatch = states.watch((key, live) => seen.push([key, live]))
    const read = () => 1
    states.set('risk-gate.main', read)
    states.set('risk-gate.main', read)
    states.delete('risk-gate.main')
    states.delete('risk-gate.main')
    unwatch()
    states.set('risk-gate.ops', read)
    expect(seen).toEqual([
      ['risk-gate.main', true],
      ['risk-gate.main', false],
    ])
    expect([...states.keys()]).toEqual(['risk-gate.ops'])
  })
})
