// The nats-server most integration test files start for themselves, with a client of it: started
// before the file's tests, stopped after them. Hooks a file registers after this call run after
// its start and before its stop.
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll } from 'vitest'
import { startNatsServer, type NatsServer } from './nats-server.js'

export function natsPerFile(): { readonly server: NatsServer; readonly nc: NatsConnection } {
  let server: NatsServer | undefined
  let nc: NatsConnection | undefined
  beforeAll(async () => {
    server = await startNatsServer()
    nc = await connect({ servers: server.url })
  }, 30_000)
  afterAll(async () => {
    await nc?.close()
    await server?.stop()
  })
  return {
    get server() {
      if (!server) throw new Error('natsPerFile: the server starts in beforeAll')
      return server
    },
    get nc() {
      if (!nc) throw new Error('natsPerFile: the client connects in beforeAll')
      return nc
    },
  }
}
