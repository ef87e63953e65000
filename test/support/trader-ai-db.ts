// trader-ai's SQLite database, built from test/fixtures/import/trader-ai.sql (schema and rows as
// trader-ai writes them) with sql.js, as the bytes of a .db file.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import initSqlJs from 'sql.js'

export async function traderAiDatabase(): Promise<Uint8Array> {
  const SQL = await initSqlJs({ locateFile: (file: string) => createRequire(import.meta.url).resolve(`sql.js/dist/${file}`) })
  const db = new SQL.Database()
  db.exec(readFileSync('test/fixtures/import/trader-ai.sql', 'utf8'))
  const bytes = db.export()
  db.close()
  return bytes
}
