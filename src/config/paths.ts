// Where the package's own files are (schemas/, sql/), whether running from src/ under tsx or
// from dist/src/ after `npm run build`.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'paperd') return dir
    const up = dirname(dir)
    if (up === dir) throw new Error('cannot find the paperd package root')
    dir = up
  }
}

export const PACKAGE_ROOT = findRoot()
export const SCHEMAS_DIR = join(PACKAGE_ROOT, 'schemas')
export const SQL_DIR = join(PACKAGE_ROOT, 'sql')

/** paperd's version, from its package.json (reported to `nats micro info`). */
export const VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version
