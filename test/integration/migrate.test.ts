import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadMigrations, migrate } from '../../src/adapters/postgres/migrate.js'
import { createTestDatabase, type TestDatabase } from '../support/postgres.js'

// Each test gets its own database and migrations dir, and ends every client it opens.
let db: TestDatabase
let dir: string
const clients: postgres.Sql[] = []

function client(max = 4): postgres.Sql {
  const sql = postgres(db.url, { max, onnotice: () => {} })
  clients.push(sql)
  return sql
}

function write(file: string, text: string): void {
  writeFileSync(join(dir, file), text)
}

async function appliedVersions(sql: postgres.Sql): Promise<number[]> {
  const rows = await sql<{ version: number }[]>`select version from schema_migrations order by version`
  return rows.map((r) => r.version)
}

async function tableExists(sql: postgres.Sql, name: string): Promise<boolean> {
  const [row] = await sql<{ t: string | null }[]>`select to_regclass(${name})::text as t`
  return row?.t != null
}

describe('migrate', () => {
  beforeEach(async () => {
    db = await createTestDatabase()
    dir = mkdtempSync(join(tmpdir(), 'paperd-migrations-'))
  })

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end({ timeout: 5 })))
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('applies files in version order, each recorded once, and a second run is a no-op', async () => {
    // Written out of order; 0010 needs 0002 and 0009, which need 0001.
    write('0010_view.sql', 'create view v as select a.id, b.note from a join b on b.a_id = a.id;')
    write('0001_a.sql', 'create table a (id int primary key);\ninsert into a values (1), (2);')
    write('0009_b_data.sql', "insert into b values (1, 'one');")
    write('0002_b.sql', 'create table b (a_id int references a(id), note text);')
    write('README.md', 'not a migration')
    const sql = client()
    const logs: string[] = []

    const first = await migrate(sql, { dir, log: (m) => logs.push(m) })
    expect(first.applied).toEqual(['0001_a.sql', '0002_b.sql', '0009_b_data.sql', '0010_view.sql'])
    expect(await appliedVersions(sql)).toEqual([1, 2, 9, 10])
    expect(await sql`select * from v`).toEqual([{ id: 1, note: 'one' }])
    expect(logs.filter((l) => l.startsWith('applied '))).toHaveLength(4)

    const rows = await sql`select name, checksum, applied_at from schema_migrations where version = 1`
    expect(rows[0]?.name).toBe('a')
    expect(rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(rows[0]?.applied_at).toBeInstanceOf(Date)

    const second = await migrate(sql, { dir, log: (m) => logs.push(m) })
    expect(second.applied).toEqual([])
    expect(logs.at(-1)).toBe('schema is up to date')
    expect(await sql`select count(*)::int as n from b`).toEqual([{ n: 1 }])
  })

  it('applies only the new files on a later run', async () => {
    write('0001_a.sql', 'create table a (id int);')
    const sql = client()
    await migrate(sql, { dir })
    write('0002_b.sql', 'create table b (id int);')
    expect((await migrate(sql, { dir })).applied).toEqual(['0002_b.sql'])
  })

  it('applies each migration exactly once when 4 processes migrate a fresh database at once', async () => {
    // A migration run twice would fail on "create table" or leave two rows in `runs`.
    write('0001_runs.sql', 'create table runs (version int not null);')
    for (let v = 2; v <= 6; v++) {
      write(`000${v}_step.sql`, `create table step_${v} (id int);\ninsert into runs values (${v});\nselect pg_sleep(0.05);`)
    }
    // Separate clients stand in for separate processes: no shared pool, no shared connection.
    const results = await Promise.all([1, 2, 3, 4].map(() => migrate(client(2), { dir })))

    const all = results.flatMap((r) => r.applied).sort()
    expect(all).toEqual(['0001_runs.sql', '0002_step.sql', '0003_step.sql', '0004_step.sql', '0005_step.sql', '0006_step.sql'])
    const sql = client()
    expect(await sql`select version from runs order by version`).toEqual([2, 3, 4, 5, 6].map((version) => ({ version })))
    expect(await appliedVersions(sql)).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('is safe for concurrent calls sharing one pool, even a pool of one connection', async () => {
    write('0001_a.sql', 'create table a (id int);')
    write('0002_b.sql', 'create table b (id int);')
    const sql = client(1)
    const results = await Promise.all([migrate(sql, { dir }), migrate(sql, { dir }), migrate(sql, { dir })])
    expect(results.flatMap((r) => r.applied).sort()).toEqual(['0001_a.sql', '0002_b.sql'])
  })

  it('rolls back only the failing migration, names its file, and resumes after a fix', async () => {
    write('0001_ok.sql', 'create table ok (id int);')
    write('0002_bad.sql', 'create table half (id int);\nselect * from no_such_table;')
    write('0003_later.sql', 'create table later (id int);')
    const sql = client()

    await expect(migrate(sql, { dir })).rejects.toThrow(/^migration 0002_bad\.sql failed and was rolled back: relation "no_such_table" does not exist/)
    expect(await appliedVersions(sql)).toEqual([1])
    expect(await tableExists(sql, 'ok')).toBe(true)
    expect(await tableExists(sql, 'half')).toBe(false)
    expect(await tableExists(sql, 'later')).toBe(false)

    // Not applied yet, so editing it is allowed.
    write('0002_bad.sql', 'create table half (id int);')
    expect((await migrate(sql, { dir })).applied).toEqual(['0002_bad.sql', '0003_later.sql'])
  })

  it('refuses to run when an applied file was edited, and applies nothing', async () => {
    write('0001_a.sql', 'create table a (id int);')
    const sql = client()
    await migrate(sql, { dir })

    write('0001_a.sql', 'create table a (id bigint);')
    write('0002_b.sql', 'create table b (id int);')
    await expect(migrate(sql, { dir })).rejects.toThrow(
      /^migration 0001_a\.sql was changed after it was applied \(recorded as a, checksum [0-9a-f]{12}…, file now [0-9a-f]{12}…\)/,
    )
    expect(await appliedVersions(sql)).toEqual([1])
    expect(await tableExists(sql, 'b')).toBe(false)
  })

  it('treats CRLF line endings as the same file (a Windows checkout is not an edit)', async () => {
    write('0001_a.sql', 'create table a (id int);\ncreate table b (id int);\n')
    const sql = client()
    await migrate(sql, { dir })
    write('0001_a.sql', 'create table a (id int);\r\ncreate table b (id int);\r\n')
    expect((await migrate(sql, { dir })).applied).toEqual([])
  })

  it('refuses a new file numbered below an applied one', async () => {
    write('0001_a.sql', 'select 1;')
    write('0003_c.sql', 'select 1;')
    const sql = client()
    await migrate(sql, { dir })
    write('0002_b.sql', 'select 1;')
    await expect(migrate(sql, { dir })).rejects.toThrow(
      'migration 0002_b.sql is not applied but version 3 already is: renumber it above the latest applied migration',
    )
  })

  it('logs applied versions that have no file instead of failing', async () => {
    write('0001_a.sql', 'select 1;')
    write('0002_b.sql', 'select 1;')
    const sql = client()
    await migrate(sql, { dir })
    rmSync(join(dir, '0002_b.sql'))
    const logs: string[] = []
    expect((await migrate(sql, { dir, log: (m) => logs.push(m) })).applied).toEqual([])
    expect(logs[0]).toMatch(/^schema_migrations has version 2 \(b\) that has no file here/)
  })
})

describe('loadMigrations', () => {
  it('rejects misnamed .sql files and duplicate versions', async () => {
    const d = mkdtempSync(join(tmpdir(), 'paperd-migrations-'))
    try {
      writeFileSync(join(d, '1_short.sql'), '')
      await expect(loadMigrations(d)).rejects.toThrow(/1_short\.sql is not named NNNN_name\.sql/)
      rmSync(join(d, '1_short.sql'))
      writeFileSync(join(d, '0001_a.sql'), '')
      writeFileSync(join(d, '0001_b.sql'), '')
      await expect(loadMigrations(d)).rejects.toThrow('migrations 0001_a.sql and 0001_b.sql share version 1')
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })

  it('names a missing directory', async () => {
    await expect(loadMigrations('/nonexistent/sql')).rejects.toThrow(/cannot read the migrations directory \/nonexistent\/sql/)
  })
})
