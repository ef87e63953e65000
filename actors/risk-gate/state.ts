// The risk gate's state for one account: its books as a ledger in market time, the ideas and
// commands waiting their turn, the risk config as it applies now, halts, approvals, the Brier
// tracker. Plain JSON: the runtime checkpoints it (raise `stateVersion` in risk-gate.ts when its
// shape changes).
import type { RiskConfig } from '../../src/core/config-file/accounts.js'
import type { Message } from '../../src/core/contracts.js'
import { newLedger, type Ledger } from '../lib/ledger.js'
import { newBrier, newPhase5Stats, type BrierState, type Phase5Stats } from '../lib/phase5.js'

export type Command = Message<'trade.command'>
/** What waits its turn: ideas and operator commands, in the order they were written. */
type Turn = { idea: Message<'trade.idea'> } | { command: Command }

export interface RiskState {
  ledger: Ledger
  /** Ideas and commands not handled yet, in arrival order. */
  queue: Turn[]
  brier: BrierState
  stats: Phase5Stats
  /** The DPI regime of the latest entry idea that carried one. */
  regime: string | null
  /** Bar-time day of the last daily metrics row. */
  metricsDay: string | null
  /** The risk config as it applies now: the file's, changed at runtime by ctl.risk.set. */
  risk: RiskConfig
  halted: boolean
  last_halt_reason: string | null
  /** Version of the risk state (trade.risk_state), raised by every change. */
  version: number
  /** Ideas waiting for a person, by id. */
  approvals: Record<string, { idea: Idea; expires_at: string }>
  /** Entries passed on the current bar-time day (max_orders_per_day). */
  today?: { day: string; orders: number }
  /** Strategies a person disabled: their entries are rejected (exits still pass). */
  disabled?: Record<string, string>
  /** The config file's risk settings last applied (a risk_config command), as sorted JSON: a changed file wins. */
  config_risk?: string
  /** Strategies of the account defined at runtime (ctl.strategies.put), by id: the version in force and its watchlist. */
  runtime?: Record<string, { version: number; symbols: string[] }>
}

export const newRiskState = (cash: number, risk: RiskConfig): RiskState => ({
  ledger: newLedger(cash),
  queue: [],
  brier: newBrier(),
  stats: newPhase5Stats(),
  regime: null,
  metricsDay: null,
  risk: { ...risk },
  halted: false,
  last_halt_reason: null,
  version: 0,
  approvals: {},
})

export type Idea = Message<'trade.idea'>
export type Status = Message<'trade.idea_status'>['status']
export type Action = Message<'trade.decision'>['action']

/** What the gate concluded about an idea: its status, the audit action, the check's result and why. */
export interface Verdict {
  status: Status
  action: Action
  result: string
  rationale: string
}

/** An idea with the quantity the gate sized it to and the Phase-5 factors that went into it. */
export interface Sized {
  qty: number
  phase5: Message<'trade.order'>['phase5']
}
