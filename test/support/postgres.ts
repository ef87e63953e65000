// A fresh database per test file on the server named by TEST_DATABASE_URL, so integration files can
// run in parallel without seeing each other's rows. Unreachable Postgres is an error, never a skip.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { safeUrl } from '../../src/telemetry/log.js'

export interface TestDatabase {
  url: string
  name: string
  /** Terminates the database's remaining connections and drops it. Idempotent. */
  drop(): Promise<void>
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

function baseUrl(): string {
  return process.env.TEST_DATABASE_URL || DEFAULT_URL
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

// A short-lived admin client on the base database; `onnotice` silenced because
// `drop database if exists` notices would otherwise be printed by postgres.js.
function admin(url: string): postgres.Sql {
  return postgres(url, { max: 1, connect_timeout: 5, idle_timeout: 1, onnotice: () => {} })
}

async function withAdmin<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = admin(url)
  try {
    return await fn(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = baseUrl()
  const name = `paperd_test_${randomBytes(6).toString('hex')}`
  try {
    await withAdmin(base, (sql) => sql`create database ${sql(name)}`)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new Error(
      `cannot create a test database on ${safeUrl(base)}: ${reason}\n` +
        'Postgres must be reachable for the integration tests (they never skip): start it, or set ' +
        'TEST_DATABASE_URL, or run scripts/setup test (npm test does), which installs and starts it.',
      { cause: err },
    )
  }

  let dropped = false
  return {
    url: withDatabase(base, name),
    name,
    async drop() {
      if (dropped) return
      dropped = true
      await withAdmin(base, async (sql) => {
        // WITH (FORCE) (Postgres >= 13) terminates clients a test forgot to end(); a plain DROP would
        // fail with 55006 "being accessed by other users" and leak the database.
        await sql`drop database if exists ${sql(name)} with (force)`
      })
    },
  }
}
