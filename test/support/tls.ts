// Throwaway TLS material for tests, made with the `openssl` CLI in a temp dir: a CA, and
// certificates it signs for servers (localhost, 127.0.0.1, ::1) and clients. Missing openssl is an
// error, never a skip.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface CertFiles {
  cert: string
  key: string
}

export interface TestCa {
  dir: string
  /** The CA certificate (PEM file). */
  ca: string
  /** A certificate signed by this CA; `hosts` become its subjectAltName (DNS or IP). */
  issue(name: string, opts?: { hosts?: string[]; client?: boolean }): CertFiles
  /** The base64 lines of a PEM file (its BEGIN/END lines left out): none may ever be logged. */
  secretLines(pemFile: string): string[]
  remove(): void
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer }
    if (e.code === 'ENOENT') throw new Error('openssl not found on PATH: install it (apt-get install openssl) — tests never skip')
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`)
  }
}

export function createTestCa(name = 'paperd test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'paperd-tls-'))
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  )
  let serial = 1
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    issue(cn, opts = {}) {
      const hosts = opts.hosts ?? (opts.client ? [] : ['localhost', '127.0.0.1', '::1'])
      const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
      const ext = [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage=${opts.client ? 'clientAuth' : 'serverAuth'}`,
        ...(san ? [`subjectAltName=${san}`] : []),
      ].join('\n')
      const base = cn.replace(/[^a-zA-Z0-9_-]/g, '_')
      writeFileSync(join(dir, `${base}.ext`), `${ext}\n`)
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], dir)
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${base}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-set_serial',
          String(serial++),
          '-days',
          '2',
          '-out',
          `${base}.crt`,
          '-extfile',
          `${base}.ext`,
        ],
        dir,
      )
      return { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) }
    },
    secretLines(pemFile) {
      return readFileSync(pemFile, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'))
    },
    remove() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
