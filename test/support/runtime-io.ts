// The runtime's I/O for a test that drives one scope by hand (leasedRunner) instead of a daemon:
// the real NATS parts, a silent log, fresh metrics; and a lease the test ends itself.
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { openCheckpoints } from '../../src/runtime/checkpoints.js'
import { createCodec } from '../../src/runtime/codec.js'
import type { Io } from '../../src/runtime/io.js'
import type { Lease, StopReason } from '../../src/runtime/leases.js'
import { createPublisher } from '../../src/runtime/publisher.js'
import { createLogger } from '../../src/telemetry/log.js'
import { createMetrics } from '../../src/telemetry/metrics.js'

export async function testIo(nc: NatsConnection, overrides: Partial<Io> = {}): Promise<Io> {
  const js = jetstream(nc)
  return {
    nc,
    js,
    jsm: await jetstreamManager(nc),
    codec: createCodec(16),
    partitions: 16,
    log: createLogger('silent'),
    metrics: createMetrics({ processMetrics: false }),
    publisher: createPublisher(nc),
    checkpoints: await openCheckpoints(js),
    epoch: () => 0,
    ...overrides,
  }
}

/** A lease held until `stop` aborts, then lost for `why`. */
export function testLease(stop: AbortController, why: StopReason): Lease {
  return {
    token: 1,
    signal: stop.signal,
    reason: () => (stop.signal.aborted ? why : null),
    check: async () => undefined,
    held: () => !stop.signal.aborted || why !== 'lost',
  }
}
