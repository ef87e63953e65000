// Durable names, what counts as one of paperd's durables, and the inputs a release retired.
import { describe, expect, it } from 'vitest'
import { durableName, isPaperdDurable, RETIRED_INPUTS } from '../../src/runtime/topology.js'
import { accountScope } from '../../actors/paper-executor.js'

const info = (name: string, durable?: string) => ({ name, config: { durable_name: durable } }) as Parameters<typeof isPaperdDurable>[0]

describe('paperd durables', () => {
  it('a durable named after an actor is one; an ephemeral consumer, someone else’s, or a null the server lists for one deleted meanwhile is not', () => {
    expect(isPaperdDurable(info('risk-gate-main', 'risk-gate-main'))).toBe(true)
    expect(isPaperdDurable(info('market-snapshots', 'market-snapshots'))).toBe(true)
    expect(isPaperdDurable(info('5vFa51x2', undefined))).toBe(false)
    expect(isPaperdDurable(info('audit-export', 'audit-export'))).toBe(false)
    expect(isPaperdDurable(null)).toBe(false)
    expect(isPaperdDurable({ name: 'x' } as never)).toBe(false)
  })

  it('names a scope input <actor>-<scope>-<input>; the executor’s retired commands input is not one of its inputs any more', () => {
    const scope = accountScope('main')
    expect(scope.inputs.map((i) => durableName('paper-executor', scope, i))).toEqual(['paper-executor-main-orders', 'paper-executor-main-bars'])
    for (const retired of RETIRED_INPUTS['paper-executor'] ?? []) expect(scope.inputs.map((i) => i.name)).not.toContain(retired.name)
    expect(durableName('paper-executor', scope, { name: 'commands' })).toBe('paper-executor-main-commands')
  })
})
