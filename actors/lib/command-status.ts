// Every operator command ends in one trade.command_status saying what became of it; the risk gate and
// the executor each answer the commands that are theirs, with this one builder.
import type { Outbound } from '../../src/core/actor.js'
import type { Message } from '../../src/core/contracts.js'

type Command = Message<'trade.command'>

interface CommandOutcome {
  ok: boolean
  error: string | null
  /** The order the command acted on (cancel_order, close_position), when there is one. */
  order_id?: string | null
  /** What the command changed, for the person who sent it. */
  detail?: Record<string, unknown> | null
}

export function commandStatus(cmd: Command, outcome: CommandOutcome): Outbound {
  return {
    type: 'trade.command_status',
    data: {
      id: `command-status:${cmd.id}`,
      type: 'trade.command_status',
      ts: cmd.ts,
      causation_id: cmd.id,
      correlation_id: cmd.correlation_id,
      account: cmd.account,
      command_id: cmd.id,
      command: cmd.command,
      ok: outcome.ok,
      error: outcome.error,
      order_id: outcome.order_id ?? null,
      detail: outcome.detail ?? null,
    },
  }
}
