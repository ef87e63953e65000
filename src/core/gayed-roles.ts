// The inputs of a Gayed strategy (the seed system's five signals) and the symbols they default to:
// the config schema names them, actors/lib/gayed computes the signals.

/** The inputs the five signals read. */
export type GayedRole = 'spy' | 'xlu' | 'wood' | 'gld' | 'ief' | 'tlt' | 'vix'

/**
 * Symbols per role. `VIX` rather than Yahoo's `^VIX`, which is not a valid paperd symbol (subject
 * token). null switches a role off, and with it every signal that reads it (SPY feeds two).
 */
export const DEFAULT_SYMBOLS: Readonly<Record<GayedRole, string>> = {
  spy: 'SPY',
  xlu: 'XLU',
  wood: 'WOOD',
  gld: 'GLD',
  ief: 'IEF',
  tlt: 'TLT',
  vix: 'VIX',
}

export const GAYED_ROLES = Object.keys(DEFAULT_SYMBOLS) as readonly GayedRole[]
