// Plain SQL migrations: sql/NNNN_name.sql, applied in order, one transaction each, recorded in
// schema_migrations. Several processes may start at once (every actor runs `migrate` on boot), so
// each step takes a transaction-scoped advisory lock and re-checks schema_migrations under it.
//
// Why per-transaction locks rather than one session lock for the whole run: a session lock needs a
// reserved connection besides the one running each migration (a pool of `max: 1` would deadlock),
// and must be unlocked on every error path before that connection goes back to the pool. An xact
// lock is released by COMMIT/ROLLBACK or by the connection dying, whatever happens.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type postgres from 'postgres'
import { SQL_DIR } from '../../config/paths.js'

// 'paperd' in ASCII, shifted left 16 bits: fixed so that every paperd process contends for the
// same lock, and unlikely to collide with another application's advisory locks on a shared server.
const LOCK_KEY = '8097877186002026496'
const FILE_PATTERN = /^(\d{4})_([A-Za-z0-9][A-Za-z0-9_-]*)\.sql$/

interface Migration {
  version: number
  name: string
  file: string
  text: string
  checksum: string
}

interface MigrateOptions {
  dir?: string
  log?: (msg: string) => void
}

interface AppliedRow {
  version: number
  name: string
  checksum: string
}

// Line endings are normalised first so a checkout with core.autocrlf does not look like an edit.
function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex')
}

/** Reads and validates the migration files in `dir`, sorted by version. Non-.sql files are ignored. */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (err) {
    throw new Error(`cannot read the migrations directory ${dir}: ${(err as Error).message}`, { cause: err })
  }
  const migrations: Migration[] = []
  for (const file of entries.filter((f) => f.endsWith('.sql'))) {
    const match = FILE_PATTERN.exec(file)
    // A misnamed file would otherwise never run, and nobody would notice until a table is missing.
    if (!match) throw new Error(`migration file ${join(dir, file)} is not named NNNN_name.sql (4-digit version)`)
    const text = await readFile(join(dir, file), 'utf8')
    migrations.push({ version: Number(match[1]), name: match[2] ?? '', file, text, checksum: checksumOf(text) })
  }
  migrations.sort((a, b) => a.version - b.version)
  for (let i = 1; i < migrations.length; i++) {
    const [prev, cur] = [migrations[i - 1], migrations[i]]
    if (prev && cur && prev.version === cur.version) {
      throw new Error(`migrations ${prev.file} and ${cur.file} share version ${cur.version}`)
    }
  }
  return migrations
}

function changedError(m: Migration, row: AppliedRow): Error {
  return new Error(
    `migration ${m.file} was changed after it was applied (recorded as ${row.name}, checksum ` +
      `${row.checksum.slice(0, 12)}…, file now ${m.checksum.slice(0, 12)}…): ` +
      'restore the original file and put the change in a new migration',
  )
}

async function lock(tx: postgres.TransactionSql): Promise<void> {
  await tx`select pg_advisory_xact_lock(${LOCK_KEY}::bigint)`
}

async function readApplied(sql: postgres.Sql): Promise<Map<number, AppliedRow>> {
  // Under the lock because concurrent `create table if not exists` can still fail on the
  // pg_type unique index. Checked first so a role without CREATE can still verify an
  // up-to-date schema.
  const rows = await sql.begin(async (tx) => {
    await lock(tx)
    const [exists] = await tx<{ t: string | null }[]>`select to_regclass('schema_migrations')::text as t`
    if (!exists?.t) {
      await tx`create table schema_migrations (
                 version int primary key,
                 name text not null,
                 checksum text not null,
                 applied_at timestamptz not null default now())`
    }
    return tx<AppliedRow[]>`select version, name, checksum from schema_migrations order by version`
  })
  return new Map(rows.map((r) => [r.version, r]))
}

// Refuses to start when history and files disagree: an edited applied file, or a new file
// numbered below one already applied (it would run out of order, e.g. after a branch merge).
function checkHistory(migrations: Migration[], applied: Map<number, AppliedRow>, log: (msg: string) => void): void {
  const highest = Math.max(0, ...applied.keys())
  for (const m of migrations) {
    const row = applied.get(m.version)
    if (row && row.checksum !== m.checksum) throw changedError(m, row)
    if (!row && m.version < highest) {
      throw new Error(`migration ${m.file} is not applied but version ${highest} already is: renumber it above the latest applied migration`)
    }
  }
  const known = new Set(migrations.map((m) => m.version))
  for (const row of applied.values()) {
    if (!known.has(row.version)) {
      log(`schema_migrations has version ${row.version} (${row.name}) that has no file here; newer code ran against this database`)
    }
  }
}

/** Applies one migration unless another process did while we waited; returns whether it ran. */
async function applyOne(sql: postgres.Sql, m: Migration): Promise<boolean> {
  try {
    return await sql.begin(async (tx) => {
      await lock(tx)
      const [row] = await tx<AppliedRow[]>`select version, name, checksum from schema_migrations
                                           where version = ${m.version}`
      if (row) {
        if (row.checksum !== m.checksum) throw changedError(m, row)
        return false
      }
      // No parameters → simple query protocol, so a file may hold many statements.
      await tx.unsafe(m.text)
      await tx`insert into schema_migrations (version, name, checksum)
               values (${m.version}, ${m.name}, ${m.checksum})`
      return true
    })
  } catch (err) {
    const msg = (err as Error).message
    if (msg.includes(m.file)) throw err
    throw new Error(`migration ${m.file} failed and was rolled back: ${msg}`, { cause: err })
  }
}

export async function migrate(sql: postgres.Sql, opts: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => {})
  const dir = opts.dir ?? SQL_DIR
  const migrations = await loadMigrations(dir)
  const applied = await readApplied(sql)
  checkHistory(migrations, applied, log)

  const done: string[] = []
  for (const m of migrations.filter((x) => !applied.has(x.version))) {
    const started = Date.now()
    if (await applyOne(sql, m)) {
      done.push(m.file)
      log(`applied ${m.file} (${Date.now() - started} ms)`)
    } else {
      log(`${m.file} was applied by another process`)
    }
  }
  if (done.length === 0) log('schema is up to date')
  return { applied: done }
}
