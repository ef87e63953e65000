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
// (with several hosts, against any of them): src/adapters/postgres/tls.ts makes the `ssl` option,
// apart from this file so that a command reading the environment does not load node:tls.

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const
type SslMode = (typeof SSL_MODES)[number]

export interface DatabaseTls {
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
