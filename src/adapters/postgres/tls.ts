// postgres.js's `ssl` option from DATABASE_URL's TLS parameters, as src/config/db-tls.ts reads them
// (what each sslmode means there). Apart from that file, which every command loads with the
// environment: only what connects to Postgres loads node:tls.
import { readFileSync } from 'node:fs'
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls'
import type { DatabaseTls } from '../../config/db-tls.js'

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
