// First run without a database: PGlite (Postgres compiled to WASM, files under the data directory,
// kept across restarts) served on a local TCP port with @electric-sql/pglite-socket's connection
// handler, so the persister and psql talk to it with the ordinary wire protocol, unchanged. It is for
// trying paperd and for a single machine's demo: one Postgres backend in this process.
//
// One backend means one statement at a time for every connection. pglite-socket's own queue takes
// turns per protocol message, so two clients pipelining Parse/Bind/Execute/Sync could interleave
// and steal each other's unnamed portal (seen: `portal "" does not exist` with paperd and a reader).
// The queue here takes turns per exchange instead: a connection holds the backend from its first
// message to its Sync or simple Query, and for as long as it is inside a transaction.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket'
import { ConfigError } from '../../config/env.js'
import type { Logger } from '../../telemetry/log.js'

/** Connections paperd's pool opens to the embedded database: more would only wait for each other. */
export const EMBEDDED_POOL = 1
/** paperd's pool, psql sessions, other clients' pools: a connection costs a socket, nothing more. */
const MAX_CONNECTIONS = 64

export interface EmbeddedPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (no secret in it: trust, local only). */
  url: string
  dir: string
  stop(): Promise<void>
}

/**
 * Opens (creating on first use) the database under `<dataDir>/pg` and serves it on 127.0.0.1:`port`
 * (a free port when that one is taken). One process at a time: a lock file with the owner's pid.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedPostgres> {
  const dir = join(dataDir, 'pg')
  mkdirSync(dataDir, { recursive: true })
  const lock = takeLock(join(dataDir, 'pg.lock'), dir)
  const started = Date.now()
  let db: PGlite
  try {
    db = await PGlite.create({ dataDir: dir })
  } catch (err) {
    lock.release()
    throw new ConfigError(`cannot open the embedded database in ${dir}: ${(err as Error).message}`)
  }
  const queue = new ExchangeQueue(db)
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    // The handler parses the wire protocol and calls the queue it is given; ours has the same methods.
    const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true })
    void handler.attach(socket)
  })
  server.maxConnections = MAX_CONNECTIONS
  const address = await listen(server, port)
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err
      log.warn({ port }, 'embedded Postgres: port in use, taking a free one')
      return listen(server, 0)
    })
    .catch(async (err: Error) => {
      await db.close()
      lock.release()
      throw new ConfigError(`the embedded database cannot listen on 127.0.0.1:${port}: ${err.message}`)
    })
  const url = `postgres://postgres@${address}/postgres`
  log.info({ dir, url, ms: Date.now() - started }, 'no DATABASE_URL: embedded Postgres (PGlite) started')
  return {
    url,
    dir,
    async stop() {
      // Clients still connected (a psql) are cut off: close() alone would wait for them.
      const closed = new Promise((r) => server.close(r))
      for (const socket of sockets) socket.destroy()
      await closed
      queue.close()
      await db.close() // a clean checkpoint; a crash is recovered from the WAL at the next start
      lock.release()
    },
  }
}

function listen(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve(`127.0.0.1:${(server.address() as { port: number }).port}`)
    })
  })
}

const SYNC = 0x53 // 'S': ends an extended-protocol exchange
const QUERY = 0x51 // 'Q': a simple query is an exchange by itself
const TERMINATE = 0x58 // 'X'

/**
 * The backend, lent to one connection per exchange (the interface pglite-socket's handler calls).
 * A message from another connection waits until the holder's exchange is over and it is not in a
 * transaction; waiting connections are served in arrival order.
 */
class ExchangeQueue {
  private holder: number | null = null
  private closed = false
  private waiting: { handlerId: number; go: () => void; fail: (err: Error) => void }[] = []

  constructor(private readonly db: PGlite) {}

  async enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.holder !== null && this.holder !== handlerId) {
      await new Promise<void>((go, fail) => this.waiting.push({ handlerId, go, fail }))
    }
    if (this.closed) throw new Error('the embedded database is closed')
    this.holder = handlerId
    let bytes = 0
    try {
      await this.db.runExclusive(() => this.db.execProtocolRawStream(message, { onRawData: (data) => ((bytes += data.length), onData(data)) }))
    } finally {
      // A startup packet (no type byte: it begins with its length, so its first byte is 0) is one exchange too.
      const type = message[0]
      if ((type === SYNC || type === QUERY || type === TERMINATE || type === 0) && !this.db.isInTransaction()) this.release()
    }
    return bytes
  }

  /** The handler's connection closed: drop what it still waits for. */
  clearQueueForHandler(handlerId: number): void {
    for (const w of this.waiting.filter((w) => w.handlerId === handlerId)) w.fail(new Error('connection closed'))
    this.waiting = this.waiting.filter((w) => w.handlerId !== handlerId)
  }

  /** …and if it held the backend (an open transaction, a half-sent exchange), roll back and pass it on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.holder !== handlerId || this.closed) return
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK') // exec takes the backend's mutex itself
    this.release()
  }

  /** The database is about to close: nothing more reaches it. */
  close(): void {
    this.closed = true
    for (const w of this.waiting.splice(0)) w.fail(new Error('the embedded database is closed'))
  }

  getQueueLength(): number {
    return this.waiting.length
  }

  private release(): void {
    this.holder = null
    const next = this.waiting.shift()
    if (next) {
      this.holder = next.handlerId
      next.go()
    }
  }
}

/** An exclusive lock file holding our pid; a stale one (its process gone) is taken over. */
function takeLock(file: string, dir: string): { release(): void } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return { release: () => rmSync(file, { force: true }) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number(readFileSync(file, 'utf8').trim())
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        throw new ConfigError(`the embedded database in ${dir} is in use by another paperd (pid ${pid}); stop it, or set DATABASE_URL or PAPERD_DATA_DIR`)
      }
      rmSync(file, { force: true })
    }
  }
  throw new ConfigError(`cannot lock ${file}`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
