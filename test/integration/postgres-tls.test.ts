// Postgres TLS per sslmode, against a PostgreSQL of the test's own with ssl = on and a certificate
// for `localhost` from a test CA (the shared test server may have ssl off). Through openDatabase — the
// pool the persister and `paperd migrate` use — each sslmode does what libpq does: disable is plain,
// require/prefer are encrypted without verification, verify-ca checks the chain against sslrootcert,
// verify-full the host name too; a certificate that does not verify is a clear error without the
// password. `paperd migrate` applies the migrations over verify-full.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadEnv } from '../../src/config/env.js'
import { openDatabase } from '../../src/app/daemon.js'
import { startPgServer, type PgServer } from '../support/pg-server.js'
import { createTestCa, type TestCa } from '../support/tls.js'

const PASSWORD = 'Pg-TLS-S3cret'

describe('DATABASE_URL sslmode, sslrootcert', () => {
  let ca: TestCa
  let pg: PgServer
  const url = (host: string, query: string) => `postgres://paperd:${PASSWORD}@${host}:${pg.port}/postgres?${query}`

  /** Whether the session is encrypted (pg_stat_ssl), or the error's message. */
  async function encrypted(databaseUrl: string): Promise<boolean | string> {
    const sql = openDatabase(loadEnv({ DATABASE_URL: databaseUrl }).databaseUrl!, 1)
    try {
      const [row] = await sql<{ ssl: boolean }[]>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`
      return row!.ssl
    } catch (err) {
      return (err as Error).message
    } finally {
      await sql.end({ timeout: 1 })
    }
  }

  beforeAll(async () => {
    ca = createTestCa()
    pg = await startPgServer({ tls: ca.issue('postgres', { hosts: ['localhost'] }), passwordUser: { name: 'paperd', password: PASSWORD } })
  })
  afterAll(async () => {
    await pg?.stop()
    ca?.remove()
  })

  it('disable (and no sslmode) is plain; prefer, allow and require are encrypted', async () => {
    expect(await encrypted(url('127.0.0.1', 'sslmode=disable'))).toBe(false)
    expect(await encrypted(url('127.0.0.1', 'application_name=x'))).toBe(false)
    expect(await encrypted(url('127.0.0.1', 'sslmode=prefer'))).toBe(true)
    expect(await encrypted(url('127.0.0.1', 'sslmode=allow'))).toBe(true)
    expect(await encrypted(url('127.0.0.1', 'sslmode=require'))).toBe(true)
  })

  it('verify-full with the CA in sslrootcert connects encrypted; without it the certificate does not verify', async () => {
    expect(await encrypted(url('localhost', `sslmode=verify-full&sslrootcert=${ca.ca}`))).toBe(true)
    const error = await encrypted(url('localhost', 'sslmode=verify-full'))
    expect(error).toBe('unable to verify the first certificate')
    expect(error).not.toContain(PASSWORD)
  })

  it('verify-full checks the host name, verify-ca only the chain', async () => {
    const error = await encrypted(url('127.0.0.1', `sslmode=verify-full&sslrootcert=${ca.ca}`))
    expect(error).toMatch(/^Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list/)
    expect(error).not.toContain(PASSWORD)
    expect(await encrypted(url('127.0.0.1', `sslmode=verify-ca&sslrootcert=${ca.ca}`))).toBe(true)
    // libpq: require with a root certificate verifies the chain, like verify-ca.
    expect(await encrypted(url('127.0.0.1', `sslmode=require&sslrootcert=${ca.ca}`))).toBe(true)
    const other = createTestCa('another CA')
    try {
      expect(await encrypted(url('127.0.0.1', `sslmode=require&sslrootcert=${other.ca}`))).toMatch(
        /self-signed certificate in certificate chain|unable to verify/,
      )
    } finally {
      other.remove()
    }
  })

  it('paperd migrate applies the migrations over verify-full, and fails in one line without the password when the CA is wrong', async () => {
    const run = async (databaseUrl: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], {
        env: { ...process.env, DATABASE_URL: databaseUrl },
        timeout: 60_000,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
        (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, out: (err.stdout ?? '') + (err.stderr ?? '') }),
      )
    const ok = await run(url('localhost', `sslmode=verify-full&sslrootcert=${ca.ca}`))
    expect(ok.code, ok.out).toBe(0)
    expect(ok.out).toMatch(/applied \d+ migration\(s\)|database is up to date/)
    const other = createTestCa('another CA')
    try {
      const bad = await run(url('localhost', `sslmode=verify-full&sslrootcert=${other.ca}`))
      expect(bad.code).toBe(1)
      expect(bad.out.trim()).toMatch(/^paperd: (self-signed certificate in certificate chain|unable to verify the first certificate)$/)
      expect(bad.out).not.toContain(PASSWORD)
    } finally {
      other.remove()
    }
  }, 90_000)
})
