#!/usr/bin/env node
// The tvb command-line tool. Runs the compiled CLI (dist/, built by npm install's prepare step);
// TVB_FROM_SOURCE=1 runs the TypeScript source through tsx instead (development and tests).
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/cli/main.js', import.meta.url)
let cli
if (!process.env.TVB_FROM_SOURCE && existsSync(compiled)) {
  ;({ cli } = await import(compiled.href))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ cli } = await import('../src/cli/main.ts'))
}
process.exit(await cli(process.argv.slice(2)))
