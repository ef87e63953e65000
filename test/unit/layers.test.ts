// The layering, read from the imports (ARCHITECTURE.md). The pure zone — `actors/` (handlers and
// their library) and `src/core/` (contracts, the actor contract, partitioning, the config schema
// and its vocabularies) — does no I/O: nothing in it, nor anything it imports, reaches a module
// that talks to the outside world, and no handler is async. `src/core/` imports nothing else of
// ours (only zod); `actors/` imports only itself and `src/core/`. The rest of `src/` depends on the
// pure zone, never the other way, and is layered: each directory imports only those below it.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(join(ROOT, path)).isDirectory()) return filesUnder(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

/** Every module a file imports (static, re-exported or dynamic): project paths relative to the root, packages by name. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const specs = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g),
  ].map((m) => m[1] ?? m[2] ?? m[3]!)
  return specs.map((s) => (s.startsWith('.') ? relative(ROOT, normalize(join(ROOT, dirname(file), s))).replace(/\.js$/, '.ts') : s))
}

const PURE = [...filesUnder('actors'), ...filesUnder('src/core')]
/** Packages the pure zone may use: computation only. */
const PURE_PACKAGES = new Set(['zod'])

describe('layers', () => {
  it('finds the files it checks', () => {
    expect(PURE.length).toBeGreaterThan(20)
    expect(PURE).toContain('actors/risk-gate.ts')
    expect(PURE).toContain('src/core/contracts.ts')
  })

  it('src/core imports only src/core and zod', () => {
    const wrong = filesUnder('src/core').flatMap((f) =>
      importsOf(f)
        .filter((i) => !i.startsWith('src/core/') && !PURE_PACKAGES.has(i))
        .map((i) => `${f} → ${i}`),
    )
    expect(wrong).toEqual([])
  })

  it('actors import only actors, src/core and zod', () => {
    const wrong = filesUnder('actors').flatMap((f) =>
      importsOf(f)
        .filter((i) => !i.startsWith('actors/') && !i.startsWith('src/core/') && !PURE_PACKAGES.has(i))
        .map((i) => `${f} → ${i}`),
    )
    expect(wrong).toEqual([])
  })

  it('nothing reachable from actors/ does I/O: no node: module, no NATS, Postgres or HTTP package, transitively', () => {
    const seen = new Set<string>()
    const io: string[] = []
    const visit = (file: string, path: string[]) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const i of importsOf(file)) {
        if (i.endsWith('.ts')) visit(i, [...path, i])
        else if (!PURE_PACKAGES.has(i)) io.push(`${[...path].join(' → ')} → ${i}`)
      }
    }
    for (const f of filesUnder('actors')) visit(f, [f])
    expect(io).toEqual([])
  })

  it('reading the environment loads no network module: every command reads it (`paperd backtest` too), node:tls alone cost one ~5 ms', () => {
    const seen = new Set<string>()
    const network: string[] = []
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const i of importsOf(file)) {
        if (i.endsWith('.ts')) visit(i)
        else if (/^node:(tls|net|http|https|dgram|dns)$|^@nats-io\/|^postgres$/.test(i)) network.push(`${file} → ${i}`)
      }
    }
    visit('src/config/env.ts')
    expect(seen.size).toBeGreaterThan(3)
    expect(network).toEqual([])
  })

  it('no handler in the pure zone is async or returns a Promise', () => {
    const wrong = PURE.filter((f) => /\basync\b|\bPromise\b|\bawait\b/.test(readFileSync(join(ROOT, f), 'utf8').replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '')))
    expect(wrong).toEqual([])
  })

  it('the pure zone keeps no module-level state: caches go through the one bounded memo (src/core/memo.ts)', () => {
    // A Map, Set, array or `let` at the top of a module outlives every call: a handler writing to it
    // would carry state the runtime neither checkpoints nor rebuilds. (Empty constants typed
    // read-only, shared to save an allocation, are fine.)
    const mutable = /^(?:export\s+)?(?:let\s|var\s|const\s+\w+(?:\s*:[^=]+)?\s*=\s*(?:new\s+(?:Map|Set|WeakMap|Array)\b|\[\s*\]))/
    const readOnly = /^(?:export\s+)?const\s+\w+\s*:\s*(?:readonly\s|Readonly\w*<|Found\b)/
    const wrong = PURE.filter((f) => f !== 'src/core/memo.ts').flatMap((f) =>
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .flatMap((line, n) => (mutable.test(line) && !readOnly.test(line) ? [`${f}:${n + 1}: ${line.trim()}`] : [])),
    )
    expect(wrong).toEqual([])
  })

  it('every export is used by another file (a module shows what others need of it, nothing more)', () => {
    const files = [...filesUnder('src'), ...filesUnder('actors'), ...filesUnder('ops'), ...filesUnder('bench'), ...filesUnder('scripts'), ...filesUnder('test')]
    const texts = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]))
    const unused: string[] = []
    for (const f of files.filter((x) => !x.startsWith('test/'))) {
      for (const [, name] of texts.get(f)!.matchAll(/^export (?:const|let|function\*?|async function|type|interface|class|enum) (\w+)/gm)) {
        const word = new RegExp(`\\b${name}\\b`)
        if (![...texts].some(([g, t]) => g !== f && word.test(t))) unused.push(`${f}: ${name}`)
      }
    }
    expect(unused).toEqual([])
  })

  it('the rest of src depends on the pure zone, which never imports it back', () => {
    const outside = filesUnder('src').filter((f) => !f.startsWith('src/core/'))
    expect(outside.length).toBeGreaterThan(10)
    const back = PURE.flatMap((f) =>
      importsOf(f)
        .filter((i) => outside.includes(i))
        .map((i) => `${f} → ${i}`),
    )
    expect(back).toEqual([])
  })

  it('the rest of src is layered: config < telemetry < runtime < adapters < control < app < cli.ts, each importing only what is below it (and the pure zone)', () => {
    const rank = (f: string): number => {
      const i = LAYERS.findIndex((l) => f === l || f.startsWith(`${l}/`))
      if (i < 0) throw new Error(`${f} is in no layer: put it in one (ARCHITECTURE.md)`)
      return i
    }
    const wrong: string[] = []
    for (const f of filesUnder('src').filter((x) => !x.startsWith('src/core/'))) {
      for (const i of importsOf(f)) {
        if (!i.endsWith('.ts') || i.startsWith('src/core/') || i.startsWith('actors/')) continue
        if (!i.startsWith('src/') || rank(i) > rank(f)) wrong.push(`${f} → ${i}`)
      }
    }
    expect(wrong).toEqual([])
  })
})

/** The layers of src outside the pure zone, lowest first. */
const LAYERS = ['src/config', 'src/telemetry', 'src/runtime', 'src/adapters', 'src/control', 'src/app', 'src/cli.ts']
