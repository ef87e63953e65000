// TLS to Postgres from DATABASE_URL, with libpq's parameters, which postgres.js only partly follows:
// it treats verify-ca like verify-full (it checks the host name too), treats allow like require,
// and has no sslrootcert/sslcert/sslkey files (it would send them to the server as settings, which
// Postgres refuses). So they are taken out of the URL here and become postgres.js's `ssl` option:
//   sslmode      disable | allow | prefer (TLS when offered, unverified) | require (TLS, unverified)
//                | verify-ca (the chain) | verify-full (the chain and the host name); absent = no TLS
//   sslrootcert  PEM file of the CA(s) to verify the server with (default: Node's CA store; `system`
//                = that store and verify-full); with require it means verify-ca, as in libpq
//   sslcert, sslkey  a client certificate and its key (require, verify-ca, verify-full)
// verify-full also needs help with IP addresses: postgres.js gives Node no server name for them, and
// Node then checks the certificate against "localhost". Here it is checked against the URL's host
// (with several hosts, against any of them).
import { readFileSync } from 'node:fs'
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls'

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const
type SslMode = (typeof SSL_MODES)[number]

interface DatabaseTls {
  /** The URL without sslmode, sslrootcert, sslcert, sslkey. */
  url: string
  mode: SslMode | undefined
  rootcert?: string
  cert?: string
  key?: string
}

const PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey']

/** Reads the TLS parameters of a postgres:// URL; a bad one throws an Error naming it (never the URL). */
export function parseDatabaseTls(url: string): DatabaseTls {
  const q = url.indexOf('?')
  if (q < 0) return { url, mode: undefined }
  const params = new URLSearchParams(url.slice(q + 1))
  if (!PARAMS.some((p) => params.has(p))) return { url, mode: undefined }
  const get = (p: string) => params.get(p) || undefined
  let mode = get('sslmode')
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw new Error(`DATABASE_URL: sslmode=${mode} is not one of ${SSL_MODES.join(', ')}`)
  }
  let rootcert = get('sslrootcert')
  if (rootcert === 'system') {
    rootcert = undefined
    mode = 'verify-full'
  }
  const cert = get('sslcert')
  const key = get('sslkey')
  if ((cert === undefined) !== (key === undefined)) throw new Error('DATABASE_URL: sslcert and sslkey go together (the client certificate and its key)')
  if ((rootcert !== undefined || cert !== undefined) && !['require', 'verify-ca', 'verify-full'].includes(mode ?? '')) {
    throw new Error('DATABASE_URL: sslrootcert, sslcert and sslkey need sslmode=require, verify-ca or verify-full')
  }
  for (const p of PARAMS) params.delete(p)
  const rest = params.toString()
  return {
    url: url.slice(0, q) + (rest ? `?${rest}` : ''),
    mode: mode as SslMode | undefined,
    ...(rootcert !== undefined ? { rootcert } : {}),
    ...(cert !== undefined ? { cert, key } : {}),
  }
}

/** postgres.js's `ssl` option for these parameters; reads the certificate files. */
export function postgresSsl(tls: DatabaseTls): false | 'prefer' | ConnectionOptions {
  const client = tls.cert !== undefined && tls.key !== undefined ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : {}
  const ca = tls.rootcert !== undefined ? { ca: readFileSync(tls.rootcert) } : {}
  switch (tls.mode) {
    case undefined:
    case 'disable':
      return false
    case 'allow':
    case 'prefer':
      return 'prefer'
    case 'require':
      // libpq: with a root certificate given, require verifies the chain like verify-ca.
      return tls.rootcert !== undefined
        ? { ...ca, ...client, rejectUnauthorized: true, checkServerIdentity: () => undefined }
        : { ...client, rejectUnauthorized: false }
    case 'verify-ca':
      return { ...ca, ...client, rejectUnauthorized: true, checkServerIdentity: () => undefined }
    case 'verify-full': {
      const hosts = urlHosts(tls.url)
      const identity =
        hosts.length === 0
          ? {}
          : {
              checkServerIdentity: (_: string, cert: PeerCertificate) => {
                const errors = hosts.map((h) => checkServerIdentity(h, cert))
                return errors.includes(undefined) ? undefined : errors[0]
              },
            }
      return { ...ca, ...client, rejectUnauthorized: true, ...identity }
    }
  }
}

/** The hosts of a postgres:// URL (several, comma-separated, are allowed), without ports or IPv6 brackets. */
function urlHosts(url: string): string[] {
  const authority = url.slice(url.indexOf('://') + 3).split(/[/?]/)[0] ?? ''
  const hosts = decodeURIComponent(authority.slice(authority.lastIndexOf('@') + 1))
  return hosts
    .split(',')
    .map((h) => (h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.split(':')[0]!))
    .filter(Boolean)
}
