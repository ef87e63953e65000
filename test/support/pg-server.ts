// A throwaway PostgreSQL server of our own (initdb in a temp dir, random port), for tests that need
// a server configured in a way the shared one is not: TLS with a certificate from a test CA, password
// authentication. Uses the PostgreSQL binaries installed on the machine (Debian: /usr/lib/postgresql/N/bin);
// as root it runs them as the `postgres` user, as initdb and postgres refuse to run as root.
// Missing binaries are an error, never a skip.
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { findOnPath } from '../../src/adapters/nats/local-server.js'
import { freePort, startChild } from './process.js'

export interface PgServer {
  port: number
  /** postgres://postgres@127.0.0.1:PORT/postgres (add ?sslmode=… as needed). */
  url: string
  stop(): Promise<void>
}

export interface PgServerOptions {
  /** Serve TLS with this certificate and key (ssl = on). */
  tls?: { cert: string; key: string }
  /** A superuser that must log in with this password (scram-sha-256); postgres itself is trusted. */
  passwordUser?: { name: string; password: string }
}

function binDir(): string {
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(debian, versions[0], 'bin')
  }
  const initdb = findOnPath('initdb')
  if (initdb) return join(initdb, '..')
  throw new Error('PostgreSQL server binaries (initdb, postgres) not found: install postgresql (apt-get install postgresql) — tests never skip')
}

/** As root, the postgres user's ids (initdb and postgres refuse root); otherwise run as ourselves. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

export async function startPgServer(opts: PgServerOptions = {}): Promise<PgServer> {
  const bin = binDir()
  const user = runAs()
  const dir = mkdtempSync(join(tmpdir(), 'paperd-pg-'))
  const own = (path: string) => user && chownSync(path, user.uid, user.gid)
  own(dir)
  const data = join(dir, 'data')
  const ids = user ? { uid: user.uid, gid: user.gid } : {}
  try {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-N', '--no-instructions'], { ...ids, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`)
  }
  const hba = ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all postgres ::1/128 trust']
  if (opts.passwordUser) hba.push('host all all 127.0.0.1/32 scram-sha-256', 'host all all ::1/128 scram-sha-256')
  writeFileSync(join(data, 'pg_hba.conf'), `${hba.join('\n')}\n`)
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', `unix_socket_directories=${dir}`, 'max_connections=20', 'shared_buffers=16MB']
  if (opts.tls) {
    const cert = join(dir, 'server.crt')
    const key = join(dir, 'server.key')
    copyFileSync(opts.tls.cert, cert)
    copyFileSync(opts.tls.key, key)
    own(cert)
    own(key)
    chmodSync(key, 0o600) // postgres refuses a key others can read
    settings.push('ssl=on', `ssl_cert_file=${cert}`, `ssl_key_file=${key}`)
  }
  const port = await freePort()
  const server = startChild(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings.flatMap((s) => ['-c', s])], {
    ...ids,
    capture: 'stderr',
    keep: 8192,
  })
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const stop = async () => {
    await server.stop('SIGINT', 10_000) // fast shutdown
    rmSync(dir, { recursive: true, force: true })
  }
  for (const deadline = Date.now() + 30_000; ; ) {
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
    const ok = await sql`select 1`.then(
      () => true,
      () => false,
    )
    if (ok && opts.passwordUser) {
      await sql.unsafe(`create role ${opts.passwordUser.name} login superuser password '${opts.passwordUser.password.replace(/'/g, "''")}'`)
    }
    await sql.end({ timeout: 1 })
    if (ok) break
    if (server.child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`the test PostgreSQL did not start:\n${server.output()}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { port, url, stop }
}
