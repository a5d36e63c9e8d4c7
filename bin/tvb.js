#!/usr/bin/env node
// The tvb command-line tool: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api'

register()
const { cli } = await import('../src/cli/main.ts')
process.exit(await cli(process.argv.slice(2)))
