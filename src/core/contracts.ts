// THE table of messages. Every message type is listed here once: its schema (schemas.ts; → TypeScript
// type via z.infer, → schemas/<type>.json, → AsyncAPI document, → README subject table), its subject
// template, the stream that stores it and who publishes it. Subjects are built and parsed from these
// templates by subjects.ts; nothing else may spell a subject.
import type { z } from 'zod'
import {
  InjectedBarSchema,
  InjectedContextSchema,
  BarSchema,
  IndicatorsSchema,
  IdeaSchema,
  DecisionSchema,
  IdeaStatusSchema,
  OrderSchema,
  OrderStatusSchema,
  CommandSchema,
  CommandStatusSchema,
  RiskStateSchema,
  StrategyDefinitionSchema,
  FillSchema,
  PositionSchema,
  PortfolioSchema,
  StrategySignalSchema,
  Phase5MetricsSchema,
  DeadLetterSchema,
  ImportedTradeSchema,
  ImportedPortfolioSchema,
} from './schemas.js'

export const STREAMS = {
  MD_IN: { subjects: ['md.in.>'], description: 'Raw market data typed by operators and feeds' },
  MD_PART: { subjects: ['md.part.>'], description: 'Raw market data routed to its symbol partition (md.part.<P>.bar.<SYM>), read by market-snapshots' },
  MD: { subjects: ['md.bar.>', 'md.ind.>'], description: 'Validated bars and indicator values, partitioned by symbol' },
  TRADE: { subjects: ['trade.>'], description: 'Ideas, decisions, orders, fills, positions, portfolios, by account' },
  SIGNALS: { subjects: ['strategy.>', 'metrics.>'], description: 'Strategy states and Phase-5 metrics, by account' },
  DLQ: { subjects: ['dlq.>'], description: 'Dead letters: refused messages with the reason' },
  IMPORT: { subjects: ['import.>'], description: "Legacy systems' trades and portfolios brought in by paperd import, for the persister" },
} as const
export type StreamName = keyof typeof STREAMS

interface Contract<S extends z.ZodType = z.ZodType> {
  /** Subject template; `{partition}` is derived from `{symbol}`. */
  subject: string
  stream: StreamName
  schema: S
  /** Who publishes it (documentation). */
  producer: string
  /** The Nats-Msg-Id, when it is not the body's `id` (a message republished in new versions). */
  msgId?: (data: z.infer<S>) => string
}

const contract = <S extends z.ZodType>(c: Contract<S>) => c

export const contracts = {
  'md.in.bar': contract({ subject: 'md.in.bar.{symbol}', stream: 'MD_IN', schema: InjectedBarSchema, producer: 'operators, feeds, paperd replay' }),
  'md.in.context': contract({ subject: 'md.in.context.{symbol}', stream: 'MD_IN', schema: InjectedContextSchema, producer: 'operators, feeds' }),
  'md.bar': contract({ subject: 'md.bar.{partition}.{symbol}', stream: 'MD', schema: BarSchema, producer: 'market-snapshots' }),
  'md.ind': contract({ subject: 'md.ind.{partition}.{symbol}', stream: 'MD', schema: IndicatorsSchema, producer: 'indicators' }),
  'trade.idea': contract({ subject: 'trade.idea.{account}', stream: 'TRADE', schema: IdeaSchema, producer: 'strategy' }),
  'trade.decision': contract({ subject: 'trade.decision.{account}', stream: 'TRADE', schema: DecisionSchema, producer: 'risk-gate' }),
  'trade.idea_status': contract({ subject: 'trade.idea_status.{account}', stream: 'TRADE', schema: IdeaStatusSchema, producer: 'risk-gate' }),
  'trade.order': contract({ subject: 'trade.order.{account}', stream: 'TRADE', schema: OrderSchema, producer: 'risk-gate' }),
  'trade.order_status': contract({ subject: 'trade.order_status.{account}', stream: 'TRADE', schema: OrderStatusSchema, producer: 'paper-executor' }),
  'trade.command': contract({ subject: 'trade.command.{account}', stream: 'TRADE', schema: CommandSchema, producer: 'control (ctl.* requests)' }),
  'trade.command_status': contract({ subject: 'trade.command_status.{account}', stream: 'TRADE', schema: CommandStatusSchema, producer: 'paper-executor' }),
  'trade.risk_state': contract({ subject: 'trade.risk_state.{account}', stream: 'TRADE', schema: RiskStateSchema, producer: 'risk-gate' }),
  'trade.strategy': contract({ subject: 'trade.strategy.{account}', stream: 'TRADE', schema: StrategyDefinitionSchema, producer: 'risk-gate' }),
  'trade.fill': contract({ subject: 'trade.fill.{account}', stream: 'TRADE', schema: FillSchema, producer: 'paper-executor' }),
  'trade.position': contract({ subject: 'trade.position.{account}', stream: 'TRADE', schema: PositionSchema, producer: 'paper-executor' }),
  'trade.portfolio': contract({
    subject: 'trade.portfolio.{account}',
    stream: 'TRADE',
    schema: PortfolioSchema,
    producer: 'paper-executor',
    msgId: (d) => `${d.id}@${d.orders_seq ?? 0}.${d.seq}`,
  }),
  'strategy.signal': contract({
    subject: 'strategy.signal.{account}',
    stream: 'SIGNALS',
    schema: StrategySignalSchema,
    producer: 'strategy (Gayed consensus)',
  }),
  'metrics.phase5': contract({ subject: 'metrics.phase5.{account}', stream: 'SIGNALS', schema: Phase5MetricsSchema, producer: 'risk-gate' }),
  dlq: contract({ subject: 'dlq.{actor}', stream: 'DLQ', schema: DeadLetterSchema, producer: 'every actor (the runtime)' }),
  'import.trade': contract({ subject: 'import.trade.{account}', stream: 'IMPORT', schema: ImportedTradeSchema, producer: 'paperd import' }),
  'import.portfolio': contract({ subject: 'import.portfolio.{account}', stream: 'IMPORT', schema: ImportedPortfolioSchema, producer: 'paperd import' }),
} as const

export type MessageType = keyof typeof contracts
export type Message<T extends MessageType> = z.infer<(typeof contracts)[T]['schema']>
/** A message with its type, as handlers receive and return them: a discriminated union. */
export type Envelope<T extends MessageType = MessageType> = { [K in T]: { type: K; data: Message<K> } }[T]
export type Published = Exclude<MessageType, 'md.in.bar' | 'md.in.context' | 'import.trade' | 'import.portfolio'>
export type InjectedBar = Message<'md.in.bar'>
export type Bar = Message<'md.bar'>

export const messageTypes = Object.keys(contracts) as MessageType[]

/** The Nats-Msg-Id of a message paperd publishes: its body's id, unless its contract says otherwise. */
export function messageIdOf(out: Envelope<Published>): string {
  const msgId = (contracts[out.type] as Contract).msgId
  return msgId ? msgId(out.data) : out.data.id
}
