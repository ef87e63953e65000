// `npm run schemas`: writes every file derived from src/core/contracts.ts and src/core/config-file.ts.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generatedFiles } from '../src/app/generated-docs.js'
import { PACKAGE_ROOT } from '../src/config/paths.js'

const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')
for (const [path, content] of Object.entries(generatedFiles(readme))) {
  writeFileSync(join(PACKAGE_ROOT, path), content)
  console.log(`wrote ${path}`)
}
