// The tape of a process that looks bars up but runs no scope reading every md.bar (the risk gate with
// its executor elsewhere): an ordered consumer keeps it, so lookups are answered from memory with
// exactly the bars the stream holds; it follows nothing while no scope looks bars up, stands aside
// while a scope of the process records, and takes over again when none does.
import type { NatsConnection } from '@nats-io/transport-node'
import { connect } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BarLookup } from '../../src/core/actor.js'
import { subjectOf } from '../../src/core/subjects.js'
import { BarTape } from '../../src/runtime/bar-tape.js'
import type { Io } from '../../src/runtime/io.js'
import { readLookups } from '../../src/runtime/lookups.js'
import { feedTape } from '../../src/runtime/tape-feed.js'
import { ensureStreams } from '../../src/runtime/topology.js'
import { message } from '../support/messages.js'
import { startNatsServer, type NatsServer } from '../support/nats-server.js'
import { testIo } from '../support/runtime-io.js'

const until = async (what: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('the tape of a process without a scope reading every md.bar', () => {
  let server: NatsServer
  let nc: NatsConnection
  let io: Io & { tape: BarTape }
  let minute = 0
  const stop = new AbortController()
  let feeding: Promise<void>

  /** Publishes the next minute's bar of `symbol` (and its md.ind, which the tape skips); its MD position. */
  const bar = async (symbol: string): Promise<number> => {
    const ts = new Date(Date.UTC(2024, 0, 2, 14, 30 + minute++)).toISOString()
    const b = message('md.bar', { id: `bar:${symbol}:${ts}`, symbol, ts })
    const seq = (await io.js.publish(subjectOf('md.bar', b, 16), JSON.stringify(b))).seq
    const ind = message('md.ind', { id: `ind:${symbol}:${ts}`, symbol, ts, bar: b })
    await io.js.publish(subjectOf('md.ind', ind, 16), JSON.stringify(ind))
    return seq
  }
  const onTape = (l: BarLookup) => io.tape.read(l)
  const inStream = async (l: BarLookup) => (await readLookups({ ...io, tape: undefined }, [l]))[0]!.bars

  beforeAll(async () => {
    server = await startNatsServer()
    nc = await connect({ servers: server.url })
    io = { ...(await testIo(nc)), tape: new BarTape() }
    await ensureStreams(io.jsm)
    feeding = feedTape(io, stop.signal)
    // Nobody looks bars up yet: nothing is followed.
    const early = await bar('WARM')
    await new Promise((r) => setTimeout(r, 300))
    expect(io.tape.read({ symbol: 'WARM', after: early, through: early })).toBeNull()
    io.tape.readByScope() // a risk gate's scope goes live here
    // It follows from the newest bar on: the first one it holds tells it is following.
    let first = 0
    const probe = setInterval(() => void bar('WARM').then((s) => (first ||= s)), 50)
    await until(() => first > 0 && io.tape.read({ symbol: 'WARM', after: first, through: first }) !== null).finally(() => clearInterval(probe))
  })
  afterAll(async () => {
    stop.abort()
    await feeding
    await nc?.close()
    await server?.stop()
  })

  it('answers lookups with exactly the bars the stream holds', async () => {
    const seqs: number[] = []
    for (let i = 0; i < 60; i++) seqs.push(await bar(['AAA', 'BBB', 'CCC'][i % 3]!))
    const after = seqs[0]!
    const through = seqs.at(-1)!
    await until(() => onTape({ symbol: 'AAA', after, through }) !== null)
    for (const symbol of ['AAA', 'BBB', 'CCC', 'NONE']) {
      const l = { symbol, after, through }
      expect(onTape(l)).toEqual(await inStream(l))
    }
    expect(onTape({ symbol: 'BBB', after, through })).toHaveLength(20)
    // Many lookups read from the stream in one call: each gets its own bars, in order.
    const many = [...Array.from({ length: 20 }, (_, k) => ({ symbol: ['AAA', 'BBB', 'CCC', 'NONE'][k % 4]!, after: seqs[k]!, through }))]
    const together = await readLookups({ ...io, tape: undefined }, many)
    expect(together.map((f) => f.lookup)).toEqual(many)
    for (const [k, l] of many.entries()) expect(together[k]!.bars).toEqual(onTape(l))
    expect(onTape({ symbol: 'BBB', after, through, limit: 1 })).toEqual(await inStream({ symbol: 'BBB', after, through, limit: 1 }))
    // Beyond what it has seen, it does not answer: the stream does.
    expect(onTape({ symbol: 'AAA', after, through: through + 100 })).toBeNull()
  })

  it('stands aside while a scope of the process records, and takes over when none does', async () => {
    const before = await bar('AAA')
    await until(() => onTape({ symbol: 'AAA', after: before - 1, through: before }) !== null)
    const released = io.tape.fedByScope()
    expect(io.tape.wanted()).toBe(false)
    // Nothing records now (the scope is make-believe): bars published meanwhile are not on the tape.
    await new Promise((r) => setTimeout(r, 200))
    const unseen = await bar('AAA')
    await new Promise((r) => setTimeout(r, 300))
    expect(onTape({ symbol: 'AAA', after: before, through: unseen })).toBeNull()
    released()
    expect(io.tape.wanted()).toBe(true)
    // Following again, from the newest bar on.
    let resumed = 0
    const probe = setInterval(() => void bar('DDD').then((s) => (resumed ||= s)), 50)
    await until(() => resumed > 0 && onTape({ symbol: 'DDD', after: resumed, through: resumed }) !== null).finally(() => clearInterval(probe))
    const later = [await bar('EEE'), await bar('DDD'), await bar('EEE')]
    const l = { symbol: 'EEE', after: resumed, through: later.at(-1)! }
    await until(() => onTape(l) !== null)
    expect(onTape(l)).toEqual(await inStream(l))
    expect(onTape(l)!.map((f) => f.seq)).toEqual([later[0], later[2]])
  })
})
