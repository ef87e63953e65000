// One instance of the lease protocol as its own process, for tests that SIGKILL or SIGSTOP it:
// `tsx test/support/lease-member.ts NATS_URL INSTANCE TTL_MS SCOPES`. It runs one actor ("demo")
// of SCOPES scopes; each scope it holds "acts" every 50 ms — only after Lease.check() passes — and
// every event goes to stdout as a JSON line with the wall time: acquired, act, lost, stopped.
// SIGTERM hands everything over and exits 0.
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { openLeaseBucket, startLeases } from '../../src/runtime/leases.js'
import { createLogger } from '../../src/telemetry/log.js'

const [url, instance, ttl, count] = process.argv.slice(2)
const ttlMs = Number(ttl)
const say = (e: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...e, instance, t: e.t ?? Date.now() })}\n`)
const nc = await connect({ servers: url!, reconnectTimeWait: 200, maxReconnectAttempts: -1 })
const kv = await openLeaseBucket(jetstream(nc), ttlMs, 1)
const scopes = Array.from({ length: Number(count) }, (_, i) => ({ key: `s${i}` }))

const leases = await startLeases(
  kv,
  [
    {
      name: 'demo',
      scopes,
      partitions: null,
      run: (scope, lease) => {
        say({ ev: 'acquired', scope: scope.key, token: lease.token })
        const done = (async () => {
          while (!lease.signal.aborted) {
            // An act is dated when its check began: what a check can promise is that it does not pass
            // once a newer owner holds the scope. A process frozen after the check passed and before
            // the act is not the check's to stop (the product's effects are fenced at the server
            // too: checkpoints by the lease token, outputs by their message ids); dated after the
            // freeze, such an act made this test fail now and then on a loaded machine.
            const asOf = Date.now()
            try {
              await lease.check()
            } catch {
              say({ ev: 'lost', scope: scope.key, token: lease.token })
              return
            }
            say({ ev: 'act', scope: scope.key, token: lease.token, t: asOf })
            await new Promise((r) => setTimeout(r, 50))
          }
          say({ ev: 'stopped', scope: scope.key, token: lease.token, reason: lease.reason() })
        })()
        return { live: Promise.resolve(), done }
      },
    },
  ],
  { jsm: await jetstreamManager(nc), instance: instance!, ttlMs, log: createLogger(process.env.LOG_LEVEL ?? 'warn') },
)
say({ ev: 'started' })
process.once('SIGTERM', () => {
  void leases.stop().then(async () => {
    say({ ev: 'exit' })
    await nc.close()
    process.exit(0)
  })
})
