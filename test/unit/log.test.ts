// The two log formats: JSON lines (the default, for machines) and one readable line per entry (a
// person at a terminal). Secrets are redacted before either is written.
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger, type LogOptions } from '../../src/telemetry/log.js'

function capture(format: LogOptions['format']) {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  return { log: createLogger('info', { format, stream }), lines }
}

describe('createLogger', () => {
  it('writes JSON lines by default', () => {
    const { log, lines } = capture(undefined)
    log.child({ actor: 'persister' }).info({ rows: 3 }, 'committed')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, svc: 'paperd', actor: 'persister', rows: 3, msg: 'committed' })
  })

  it('pretty: one line per entry, time, level, message, then the fields; errors stay on it', () => {
    const { log, lines } = capture('pretty')
    log.child({ actor: 'persister' }).warn({ err: 'connection refused' }, 'commit failed')
    log.info(`nats req ctl.portfolio.get '{"account":"demo"}'`)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: commit failed {"actor":"persister","err":"connection refused"}$/)
    expect(lines[1]).toMatch(/INFO: nats req ctl\.portfolio\.get '{"account":"demo"}'$/)
  })

  it('pretty output is redacted like JSON', () => {
    const { log, lines } = capture('pretty')
    log.info({ databaseUrl: 'postgres://u:hunter2@db/x', nats: { token: 's3cret' } }, 'starting')
    expect(lines.join('\n')).not.toMatch(/hunter2|s3cret/)
    expect(lines.join('\n')).toContain('[redacted]')
  })
})
