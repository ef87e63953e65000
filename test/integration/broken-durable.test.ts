// A durable whose files the server lost (nats-server 2.9.10 after a restart amid durables being
// recreated: every change of it then fails with "open …/obs/<durable>/meta.inf: no such file or
// directory", and a paperd starting up crash-looped on it in a chaos run). Starting again repairs it:
// the durable is made anew and works.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { describe, expect, it } from 'vitest'
import { persister } from '../../actors/persister.js'
import { consumerConfig, durableName, ensureConsumers, ensureStreams, resetConsumer } from '../../src/runtime/topology.js'
import { natsPerFile } from '../support/nats-per-file.js'

describe('a durable the server lost on disk', () => {
  const nats = natsPerFile()

  it('is made anew when the actors start, instead of failing the start', async () => {
    const jsm = await jetstreamManager(nats.nc)
    await ensureStreams(jsm)
    await ensureConsumers(jsm, [persister()])
    rmSync(join(nats.server.storeDir, 'jetstream', '$G', 'streams', 'MD', 'obs', 'persister-md'), { recursive: true, force: true })
    // What the server now answers to any change of it:
    await expect(jsm.consumers.update('MD', 'persister-md', { description: 'x' })).rejects.toThrow(/no such file or directory/)
    await ensureConsumers(jsm, [persister()])
    const info = await jsm.consumers.info('MD', 'persister-md')
    expect(info.config.durable_name).toBe('persister-md')
    await expect(jsm.consumers.update('MD', 'persister-md', { description: 'x' })).resolves.toBeDefined()
  })

  it('is repositioned by a rebuild all the same', async () => {
    const jsm = await jetstreamManager(nats.nc)
    const def = persister()
    const input = def.scopes[0]!.inputs.find((i) => i.stream === 'TRADE')!
    const name = durableName(def.name, def.scopes[0]!, input)
    rmSync(join(nats.server.storeDir, 'jetstream', '$G', 'streams', 'TRADE', 'obs', name), { recursive: true, force: true })
    await resetConsumer(jsm, 'TRADE', consumerConfig(def, def.scopes[0]!, input), 1)
    expect((await jsm.consumers.info('TRADE', name)).config.durable_name).toBe(name)
  })
})
