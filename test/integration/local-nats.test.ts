// A first run without a NATS server: `paperd start` with NATS_URL on this machine and nothing
// answering starts `nats-server -js` from PATH on that port, its store under PAPERD_DATA_DIR (a
// restart finds its streams again), and stops it on exit; with no nats-server installed it says in
// one line how to get one. With no DATABASE_URL either, the books go to an embedded Postgres (PGlite)
// under the same directory.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import postgres from 'postgres'
import { afterEach, describe, expect, it } from 'vitest'
import { startNatsServer } from '../support/nats-server.js'
import { children, freePort, startPaperd } from '../support/process.js'

/** `paperd start`; `detached` puts it in a process group of its own, as a shell does a foreground job. */
function start(env: Record<string, string>, args = ['--actors', 'market-snapshots'], detached = false) {
  return startPaperd(['start', ...args], { env: { ...env, LOG_LEVEL: 'info' }, detached })
}

async function ready(metricsPort: number, output: () => string) {
  // A deadline, not a wait: an embedded Postgres can take many seconds to start on a loaded machine.
  for (const deadline = Date.now() + 60_000; ; ) {
    if (
      await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return
    if (Date.now() > deadline) throw new Error(`not ready:\n${output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

// A failed test must leave no paperd behind, nor the nats-server it started (which a SIGKILL of
// paperd would orphan): SIGTERM first, SIGKILL if that is not enough.
afterEach(async () => {
  await Promise.all(children('paperd').map((c) => c.stop('SIGTERM', 15_000)))
})

describe('paperd start without a NATS server', () => {
  it('starts a local nats-server -js from PATH, keeps its store across restarts, and stops it on exit', async () => {
    const natsPort = await freePort()
    const dataDir = mkdtempSync(join(tmpdir(), 'paperd-data-'))
    const env = { PATH: process.env.PATH!, NATS_URL: `nats://127.0.0.1:${natsPort}`, PAPERD_DATA_DIR: dataDir }
    const mPort = await freePort()
    const run = start({ ...env, METRICS_PORT: String(mPort) })
    await ready(mPort, run.output)
    expect(run.output()).toContain('no NATS answering: started a local nats-server -js')
    const nc = await connect({ servers: `127.0.0.1:${natsPort}` })
    await jetstream(nc).publish('md.in.bar.ORCL', JSON.stringify({ ts: '2024-01-02', open: 1, high: 1, low: 1, close: 1, volume: 1 }), { msgID: 'first-run' })
    await nc.close()
    run.child.kill('SIGTERM')
    expect((await run.exited).code).toBe(0)
    // The local server went with it.
    await expect(connect({ servers: `127.0.0.1:${natsPort}`, reconnect: false, timeout: 1000 })).rejects.toThrow()

    const again = start({ ...env, METRICS_PORT: String(mPort) })
    await ready(mPort, again.output)
    const nc2 = await connect({ servers: `127.0.0.1:${natsPort}` })
    expect((await (await jetstreamManager(nc2)).streams.info('MD_IN')).state.messages).toBe(1)
    await nc2.close()
    again.child.kill('SIGTERM')
    expect((await again.exited).code).toBe(0)
  }, 90_000)

  it('a Ctrl-C at the terminal (SIGINT to the whole process group) reaches paperd alone: it drains against its nats-server, then stops it', async () => {
    const natsPort = await freePort()
    const mPort = await freePort()
    // The first run of the README: every actor, the demo, the embedded Postgres.
    const env = {
      PATH: process.env.PATH!,
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      PAPERD_DATA_DIR: mkdtempSync(join(tmpdir(), 'paperd-data-')),
      PAPERD_PG_PORT: String(await freePort()),
      METRICS_PORT: String(mPort),
    }
    const run = start(env, [], true)
    try {
      await ready(mPort, run.output)
      process.kill(-run.child.pid!, 'SIGINT')
      expect((await run.exited).code, run.output()).toBe(0)
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL')
    }
    // Had the server gone with the Ctrl-C, the actors' pulls and checkpoints would have failed.
    const shutdown = run.output().slice(run.output().indexOf('"msg":"signal received"'))
    expect(shutdown, shutdown).not.toMatch(/"level":[4-6]0/)
    expect(shutdown).toContain('"msg":"stopped"')
    await expect(connect({ servers: `127.0.0.1:${natsPort}`, reconnect: false, timeout: 1000 })).rejects.toThrow()
  }, 120_000)

  it('a Ctrl-C while paperd is still starting stops what has started, the nats-server included', async () => {
    const natsPort = await freePort()
    const run = start(
      { PATH: process.env.PATH!, NATS_URL: `nats://127.0.0.1:${natsPort}`, PAPERD_DATA_DIR: mkdtempSync(join(tmpdir(), 'paperd-data-')), METRICS_PORT: '0' },
      ['--actors', 'market-snapshots'],
      true,
    )
    try {
      // The moment the server is up, before the actors are.
      for (
        const deadline = Date.now() + 60_000;
        !run.output().includes('no NATS answering: started a local nats-server -js');
        await new Promise((r) => setTimeout(r, 10))
      ) {
        expect(Date.now(), run.output()).toBeLessThan(deadline)
      }
      process.kill(-run.child.pid!, 'SIGINT')
      expect((await run.exited).code, run.output()).toBe(0)
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL')
    }
    expect(run.output()).toContain('"msg":"signal received"')
    await expect(connect({ servers: `127.0.0.1:${natsPort}`, reconnect: false, timeout: 1000 })).rejects.toThrow()
  }, 90_000)

  it('takes the nats-server it started along when it leaves in a hurry (a second Ctrl-C)', async () => {
    const natsPort = await freePort()
    const mPort = await freePort()
    const run = start({
      PATH: process.env.PATH!,
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      PAPERD_DATA_DIR: mkdtempSync(join(tmpdir(), 'paperd-data-')),
      METRICS_PORT: String(mPort),
    })
    await ready(mPort, run.output)
    run.child.kill('SIGINT')
    while (!run.output().includes('signal received')) await new Promise((r) => setTimeout(r, 20))
    run.child.kill('SIGINT')
    expect((await run.exited).code, run.output()).toBe(1)
    expect(run.output()).toContain('second signal: exiting now')
    for (const deadline = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 100))) {
      const up = await connect({ servers: `127.0.0.1:${natsPort}`, reconnect: false, timeout: 500 }).then(
        (nc) => nc.close().then(() => true),
        () => false,
      )
      if (!up) break
      expect(Date.now(), 'the local nats-server outlived paperd').toBeLessThan(deadline)
    }
  }, 60_000)

  it('with no env and no config at all, it trades the bundled demo into an embedded Postgres within a minute, and keeps its books across a restart', async () => {
    // Nothing set but ports (tests run side by side) and the data directory: the demo's own pace.
    const env = {
      PATH: process.env.PATH!,
      NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      PAPERD_DATA_DIR: mkdtempSync(join(tmpdir(), 'paperd-data-')),
      PAPERD_PG_PORT: String(await freePort()),
    }
    const db = postgres(`postgres://postgres@127.0.0.1:${env.PAPERD_PG_PORT}/postgres`, { max: 1, onnotice: () => {} })
    const trades = async () => (await db<{ n: number; last: string | null }[]>`select count(*)::int as n, max(ts)::text as last from trades`)[0]!
    try {
      const started = Date.now()
      const mPort = await freePort()
      const run = start({ ...env, METRICS_PORT: String(mPort) }, [])
      await ready(mPort, run.output)
      for (; (await trades()).n === 0; await new Promise((r) => setTimeout(r, 250))) {
        expect(Date.now() - started, run.output()).toBeLessThan(60_000)
      }
      expect(run.output()).toContain('no DATABASE_URL: embedded Postgres (PGlite) started')
      expect(run.output()).toContain(`books:     psql postgres://postgres@127.0.0.1:${env.PAPERD_PG_PORT}/postgres`)
      expect(run.output()).toContain("watch it:  nats sub 'trade.>'")
      // Shell to paste, not a JSON-escaped log message.
      expect(run.output()).toContain(`nats req ctl.portfolio.get '{"account":"demo"}'`)
      expect(run.output()).toMatch(/^metrics: {3}curl -s http:\/\/localhost:\d+\/metrics$/m)
      const before = await trades()
      run.child.kill('SIGTERM')
      expect((await run.exited).code, run.output()).toBe(0)

      // The same data directory (db reconnects): the rows are still there, and the demo trades on.
      const mPort2 = await freePort()
      const again = start({ ...env, METRICS_PORT: String(mPort2) }, [])
      await ready(mPort2, again.output)
      const kept = await trades()
      expect(kept.n).toBeGreaterThanOrEqual(before.n)
      expect(kept.last! >= before.last!).toBe(true)
      for (const deadline = Date.now() + 45_000; (await trades()).n === kept.n; await new Promise((r) => setTimeout(r, 250))) {
        expect(Date.now(), again.output()).toBeLessThan(deadline)
      }
      expect((await trades()).last! > kept.last!).toBe(true)
      again.child.kill('SIGTERM')
      expect((await again.exited).code, again.output()).toBe(0)
    } finally {
      await db.end()
    }
  }, 150_000)

  it('without nats-server on PATH: one line saying how to get one, exit 2', async () => {
    const natsPort = await freePort()
    const run = start({
      PATH: '/nonexistent',
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      PAPERD_DATA_DIR: mkdtempSync(join(tmpdir(), 'paperd-data-')),
      METRICS_PORT: '0',
    })
    expect((await run.exited).code).toBe(2)
    // The last line it writes to stderr: its log goes to stdout, and two pipes reach a reader in no
    // set order (a full-suite run read the stdout line last).
    expect(run.stderr().trim().split('\n').at(-1)).toMatch(
      new RegExp(`^paperd: no NATS at 127\\.0\\.0\\.1:${natsPort} and no nats-server on PATH: install one \\(apt-get install nats-server`),
    )
  })

  it('stands in only on a first run: a NATS not its own that answered there before is waited for while it restarts', async () => {
    const theirs = await startNatsServer()
    try {
      const env = { PATH: process.env.PATH!, NATS_URL: theirs.url, PAPERD_DATA_DIR: mkdtempSync(join(tmpdir(), 'paperd-data-')) }
      const mPort = await freePort()
      const first = start({ ...env, METRICS_PORT: String(mPort) })
      await ready(mPort, first.output)
      first.child.kill('SIGTERM')
      expect((await first.exited).code).toBe(0)
      // Started while that NATS is down: it waits, and takes nothing of its own.
      let again: ReturnType<typeof start> | undefined
      await theirs.restart({
        downUntil: (async () => {
          again = start({ ...env, METRICS_PORT: String(mPort) })
          for (const deadline = Date.now() + 30_000; !again.output().includes("where a NATS that is not paperd's answered before: waiting for it"); ) {
            if (Date.now() > deadline) throw new Error(`no wait:\n${again.output()}`)
            await new Promise((r) => setTimeout(r, 100))
          }
        })(),
      })
      await ready(mPort, again!.output)
      expect(again!.output()).not.toContain('started a local nats-server')
      again!.child.kill('SIGTERM')
      expect((await again!.exited).code).toBe(0)
    } finally {
      await theirs.stop()
    }
  }, 120_000)
})
