// A daemon's warm-up runs the deployment's own strategies over synthetic bars through the handlers,
// the codec and the NATS client before its scopes consume — and leaves nothing behind: no message
// in any stream, no subscription, the same trades afterwards.
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { describe, expect, it } from 'vitest'
import { warmUp, warmUpSeries } from '../../src/app/warm-up.js'
import { loadConfigFile, parseConfig } from '../../src/config/env.js'
import { PACKAGE_ROOT } from '../../src/config/paths.js'
import { STREAMS } from '../../src/core/contracts.js'
import { createCodec } from '../../src/runtime/codec.js'
import { ensureStreams } from '../../src/runtime/topology.js'
import { natsPerFile } from '../support/nats-per-file.js'

const nats = natsPerFile()

const canonical = loadConfigFile(join(PACKAGE_ROOT, 'examples', 'canonical.json'))
const withSymbols = (symbols: string[], timeframe = '1m') =>
  parseConfig({ ...canonical, strategies: canonical.strategies.map((s) => ({ ...s, symbols, timeframe })) })

describe('the warm-up', () => {
  it('takes the first four symbols of the strategies, each with its timeframe', () => {
    expect(warmUpSeries(withSymbols(['A', 'B', 'C', 'D', 'E']))).toEqual(['A', 'B', 'C', 'D'].map((symbol) => ({ symbol, timeframe: '1m' })))
    expect(warmUpSeries(withSymbols(['ORCL'], '1d'))).toEqual([{ symbol: 'ORCL', timeframe: '1d' }])
  })

  it('runs the handlers and the client over the bars, and stores nothing', async () => {
    const jsm = await jetstreamManager(nats.nc)
    await ensureStreams(jsm)
    const inBefore = nats.nc.stats().inMsgs
    const warmed = await warmUp(withSymbols(['A', 'B', 'C', 'D', 'E']), createCodec(16), nats.nc, 400)
    expect(warmed).not.toBeNull()
    expect(warmed!.bars).toBe(4 * 400)
    // The strategies traded on the walk: fills, positions, portfolios and statuses went through.
    expect(warmed!.messages).toBeGreaterThan(100)
    // Every message came back through the server.
    expect(nats.nc.stats().inMsgs - inBefore).toBeGreaterThanOrEqual(Math.min(warmed!.messages, 4000))
    for (const stream of Object.keys(STREAMS)) expect((await jsm.streams.info(stream)).state.messages, stream).toBe(0)
  })

  it('is skipped when there is nothing to warm on', async () => {
    const codec = createCodec(16)
    expect(await warmUp(withSymbols(['ORCL']), codec, nats.nc, 0)).toBeNull()
    expect(await warmUp(parseConfig({ ...canonical, strategies: [] }), codec, nats.nc, 100)).toBeNull()
  })
})
