// The per-file database helper: isolated databases, nothing left behind, and a loud error (never a
// skip) when Postgres is not there.
import { createServer } from 'node:net'
import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { createTestDatabase } from '../support/postgres.js'

const BASE = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

async function databaseExists(name: string): Promise<boolean> {
  const sql = postgres(BASE, { max: 1 })
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`
    return rows.length === 1
  } finally {
    await sql.end()
  }
}

// A port nothing listens on: bind an ephemeral port, then release it.
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function withEnv<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TEST_DATABASE_URL
  process.env.TEST_DATABASE_URL = value
  try {
    return await fn()
  } finally {
    if (saved === undefined) delete process.env.TEST_DATABASE_URL
    else process.env.TEST_DATABASE_URL = saved
  }
}

describe('createTestDatabase', () => {
  it('creates distinct empty databases and drop() removes them even with clients still connected', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()])
    expect(a.name).toMatch(/^paperd_test_[0-9a-f]{12}$/)
    expect(b.name).not.toBe(a.name)
    expect(new URL(a.url).pathname).toBe(`/${a.name}`)

    const sql = postgres(a.url, { max: 2 })
    await sql`create table t (id int)`
    expect(await sql`select current_database() as db`).toEqual([{ db: a.name }])
    const other = postgres(b.url, { max: 1 })
    expect(await other`select to_regclass('t') as t`).toEqual([{ t: null }])
    await other.end()

    // `sql` is deliberately left open: drop() must still succeed.
    await a.drop()
    await a.drop()
    await b.drop()
    expect(await databaseExists(a.name)).toBe(false)
    expect(await databaseExists(b.name)).toBe(false)
    await sql.end({ timeout: 1 }).catch(() => {})
  })

  it('fails loudly, without the password, when Postgres is unreachable', async () => {
    const port = await closedPort()
    await withEnv(`postgres://postgres:hunter2@127.0.0.1:${port}/postgres`, async () => {
      const err = await createTestDatabase().then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      expect(err?.message).toMatch(new RegExp(`^cannot create a test database on postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/postgres: `))
      expect(err?.message).toContain('they never skip')
      expect(err?.message).not.toContain('hunter2')
    })
  })
})
