// The JSON config file (SPEC §5.2): accounts with costs and risk limits, and strategies written in a
// small JSON condition language. One zod schema; schemas/config.json is generated from it for editors
// and other tools. Cross-references (accounts, indicator names) are checked after the shape.
// Its parts, one per part of the language, live in config-file/: accounts, strategies, conditions,
// sizing-and-exits, sessions, feeds, references; indicator declarations are src/core/indicator-kinds.ts's.
import { z } from 'zod'
import { Account } from './config-file/accounts.js'
import { Feed } from './config-file/feeds.js'
import { checkReferences } from './config-file/references.js'
import { Strategy } from './config-file/strategies.js'

const Persistence = z
  .object({
    snapshot_retention_days: z
      .number()
      .gt(0)
      .nullable()
      .default(null)
      .describe('Keep snapshot_market/snapshot_indicators rows this many days behind the newest bar; null = forever'),
  })
  .strict()

export const ConfigFileSchema = z
  .object({
    $schema: z.string().optional(),
    accounts: z.array(Account).min(1),
    strategies: z.array(Strategy).default([]),
    persistence: Persistence.default({ snapshot_retention_days: null }),
    feeds: z.array(Feed).default([]).describe('Market data paperd fetches by itself (README, Feeds)'),
  })
  .strict()
  // Cross-references are only meaningful on a well-formed document (and walking a malformed
  // condition would throw); a shape error is reported first.
  .superRefine(checkReferences, { when: (payload) => payload.issues.length === 0 })
export type ConfigFile = z.infer<typeof ConfigFileSchema>
