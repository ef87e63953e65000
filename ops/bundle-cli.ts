// `npm run build`, after tsc: the command and its worker threads bundled by esbuild, over tsc's own
// output in dist/src (cli.js, app/worker.js, app/sweep-worker.js; what they share in
// dist/src/chunks). A process otherwise opened and linked about 170 files before its first line ran
// (95 of them zod's): bundled, `paperd backtest` starts ~55 ms sooner, and every `paperd ctl` with it.
// The dependencies stay in node_modules (some load files beside themselves: PGlite's WebAssembly,
// pino's transports) except zod and commander, plain code every command loads. What a command does
// not need is still imported when it runs (the daemon, NATS, Postgres): split into chunks, not loaded.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build, type Plugin } from 'esbuild'

const root = join(import.meta.dirname, '..')
const BUNDLED = new Set(['zod', 'commander'])
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
const src = join(root, 'dist', 'src')

/**
 * zod's namespace re-exports every language's error messages (`z.locales`): 370 kB of the 780 kB of
 * zod in the bundle, parsed at every command's start. paperd reports in English (zod's default,
 * which its schemas import themselves), so the bundle's `z.locales` holds English alone.
 */
const englishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";\n', loader: 'js' }))
  },
}

await build({
  entryPoints: ['cli.js', 'app/worker.js', 'app/sweep-worker.js'].map((file) => join(src, file)),
  outbase: src,
  outdir: src,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies).filter((name) => !BUNDLED.has(name)),
  // commander is CommonJS: its require() of node's modules needs a require in an ES module.
  banner: { js: "import { createRequire as __paperdRequire } from 'node:module'; const require = __paperdRequire(import.meta.url);" },
  sourcemap: 'linked',
  plugins: [englishOnly],
  logLevel: 'warning',
})
