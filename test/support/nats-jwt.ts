// NATS decentralized auth for tests: an operator, an account (with JetStream) and its users, as
// JWTs signed with ed25519 nkeys, encoded the way nats-io/jwt v2 does (claims.go doEncode):
//   header  {"typ":"JWT","alg":"ed25519-nkey"}
//   claims  { jti, iat, iss, name, sub, nats: { type, version: 2, … } }
//   jti     base32 (std alphabet, no padding) of SHA-512/256 over the JSON of the common claim
//           fields (aud, exp, jti, iat, iss, name, nbf, sub; empty ones omitted) with jti empty
//   token   base64url(header).base64url(claims).base64url(ed25519 signature of the first two, by the issuer's seed)
// The nkeys come from @nats-io/transport-node's re-export of @nats-io/nkeys (one copy, one version).
import { createHash } from 'node:crypto'
import { nkeys } from '@nats-io/transport-node'

type KeyPair = ReturnType<typeof nkeys.createUser>

const HEADER = { typ: 'JWT', alg: 'ed25519-nkey' }
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]
  return out
}

const b64url = (s: string | Uint8Array) => Buffer.from(s).toString('base64url')

/** Encodes and signs a v2 JWT for `subject`, issued by `issuer`. */
export function encodeJwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const common = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject }
  const jti = base32(createHash('sha512-256').update(JSON.stringify(common)).digest())
  const claims = { jti, ...common, nats: { ...nats, version: 2 } }
  const toSign = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify(claims))}`
  return `${toSign}.${b64url(issuer.sign(new TextEncoder().encode(toSign)))}`
}

/** The text of a .creds file, as `nsc generate creds` writes it. */
export function credsFile(userJwt: string, userSeed: Uint8Array): string {
  return [
    '-----BEGIN NATS USER JWT-----',
    userJwt,
    '------END NATS USER JWT------',
    '',
    '************************* IMPORTANT *************************',
    'NKEY Seed printed below can be used to sign and prove identity.',
    'NKEYs are sensitive and should be treated as secrets.',
    '',
    '-----BEGIN USER NKEY SEED-----',
    new TextDecoder().decode(userSeed),
    '------END USER NKEY SEED------',
    '',
    '*************************************************************',
    '',
  ].join('\n')
}

const UNLIMITED = { subs: -1, data: -1, payload: -1 }

export interface Operator {
  jwt: string
  account: { publicKey: string; jwt: string; keyPair: KeyPair }
  /** A user of the account with every permission: its creds file text and its seed (the secret in it). */
  user(name: string): { creds: string; seed: string }
  /** nats-server config: this operator trusted, the account preloaded in a memory resolver. */
  serverConfig(): string
}

/** An operator with one account that may use JetStream without limits. */
export function createOperator(): Operator {
  const operator = nkeys.createOperator()
  const account = nkeys.createAccount()
  // JetStream needs a system account (its internal subscriptions live there).
  const system = nkeys.createAccount()
  const operatorJwt = encodeJwt(operator, operator.getPublicKey(), 'paperd-test-operator', { type: 'operator', system_account: system.getPublicKey() })
  const systemJwt = encodeJwt(operator, system.getPublicKey(), 'SYS', {
    type: 'account',
    limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
    default_permissions: { pub: {}, sub: {} },
  })
  const accountJwt = encodeJwt(operator, account.getPublicKey(), 'PAPERD', {
    type: 'account',
    limits: {
      ...UNLIMITED,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
      // Non-zero storage limits are what enables JetStream for the account.
      mem_storage: -1,
      disk_storage: -1,
      streams: -1,
      consumer: -1,
    },
    default_permissions: { pub: {}, sub: {} },
  })
  return {
    jwt: operatorJwt,
    account: { publicKey: account.getPublicKey(), jwt: accountJwt, keyPair: account },
    user(name) {
      const user = nkeys.createUser()
      const jwt = encodeJwt(account, user.getPublicKey(), name, { type: 'user', pub: {}, sub: {}, ...UNLIMITED })
      const seed = user.getSeed()
      return { creds: credsFile(jwt, seed), seed: new TextDecoder().decode(seed) }
    },
    serverConfig() {
      return [
        `operator: ${operatorJwt}`,
        'resolver: MEMORY',
        'resolver_preload: {',
        `  ${account.getPublicKey()}: ${accountJwt}`,
        `  ${system.getPublicKey()}: ${systemJwt}`,
        '}',
        '',
      ].join('\n')
    },
  }
}
