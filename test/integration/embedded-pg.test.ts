// The embedded Postgres of a first run (PGlite behind a socket): the ordinary client and paperd's
// migrations talk to it unchanged, several connections pipelining at once do not steal each other's
// exchanges, a transaction is isolated from other connections and rolled back when its connection
// dies, the data survives a restart, and a second paperd on the same directory is refused.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/adapters/postgres/embedded.js'
import { createLogger } from '../../src/telemetry/log.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { freePort } from '../support/process.js'

const log = createLogger('silent')

describe('embedded Postgres (PGlite over the wire protocol)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'paperd-pg-'))
  let pg: EmbeddedPostgres
  const clients: postgres.Sql[] = []
  const client = (max = 4) => {
    const sql = postgres(pg.url, { max, onnotice: () => {} })
    clients.push(sql)
    return sql
  }

  beforeAll(async () => {
    pg = await startEmbeddedPostgres(dataDir, await freePort(), log)
  }, 60_000)
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end({ timeout: 1 })))
    await pg?.stop()
  })

  it('runs paperd migrations and answers the ordinary client', async () => {
    const sql = client(1)
    const { applied } = await migrate(sql)
    expect(applied.length).toBeGreaterThan(0)
    expect((await migrate(sql)).applied).toEqual([])
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from information_schema.tables where table_name = 'trades'`
    expect(row!.n).toBe(1)
  })

  it('keeps concurrent pipelined queries and transactions of many connections apart', async () => {
    const a = client()
    const b = client()
    await a`create table if not exists hammer (conn text, i int, primary key (conn, i))`
    // Each connection's exchange (Parse/Bind/Execute/Sync) must run whole; a transaction holds the backend.
    const work = (sql: postgres.Sql, conn: string) =>
      Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 3 === 0
            ? sql.begin(async (tx) => {
                await tx`insert into hammer values (${conn}, ${i})`
                const [r] = await tx<{ n: number }[]>`select count(*)::int as n from hammer where conn = ${conn} and i = ${i}`
                return r!.n
              })
            : sql<{ v: number }[]>`select ${i}::int as v`.then(([r]) => (r!.v === i ? 1 : -1)),
        ),
      )
    const [ra, rb] = await Promise.all([work(a, 'a'), work(b, 'b')])
    expect([...ra, ...rb].every((n) => n === 1)).toBe(true)
    const [count] = await a<{ n: number }[]>`select count(*)::int as n from hammer`
    expect(count!.n).toBe(40)
  })

  it('isolates an open transaction and rolls it back when its connection dies', async () => {
    const writer = client(1)
    const reader = client(1)
    await writer`create table if not exists dying (i int)`
    const reserved = await writer.reserve()
    await reserved`begin`
    await reserved`insert into dying values (1)`
    // The reader waits while the writer is inside its transaction, then sees nothing of it.
    const read = reader<{ n: number }[]>`select count(*)::int as n from dying`
    await new Promise((r) => setTimeout(r, 200))
    await writer.end({ timeout: 0 }) // the connection goes away mid-transaction
    const [row] = await read
    expect(row!.n).toBe(0)
  })

  it('refuses a second paperd on the same data directory, and keeps the data across a restart', async () => {
    const other = mkdtempSync(join(tmpdir(), 'paperd-pg-'))
    writeFileSync(join(other, 'pg.lock'), String(process.ppid)) // a live process that is not us
    await expect(startEmbeddedPostgres(other, 0, log)).rejects.toThrow(/in use by another paperd \(pid \d+\); stop it, or set DATABASE_URL or PAPERD_DATA_DIR/)

    const sql = client(1)
    await sql`create table if not exists kept (v text)`
    await sql`insert into kept values ('before the restart')`
    await sql.end()
    await pg.stop()
    pg = await startEmbeddedPostgres(dataDir, 0, log)
    const again = client(1)
    expect(await again`select v from kept`).toEqual([{ v: 'before the restart' }])
  }, 60_000)
})
