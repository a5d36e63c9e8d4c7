/**
 * npm run fuzz -- [--runs N] [--seed S] [--verbose] [extra vitest arguments]
 *
 * Runs the contract fuzz suite (test/contract-fuzz.test.ts) with FUZZ_RUNS requests per
 * authenticated operation (default 75 in CI; a nightly run: --runs 2000) and FUZZ_SEED (default 42).
 * The route matrix (test/route-matrix.test.ts) is deterministic and runs with `npm test`.
 */
import { spawn } from 'node:child_process'

const args = process.argv.slice(2)
const env: NodeJS.ProcessEnv = { ...process.env }
const rest: string[] = []
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!
  const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined]
  const value = () => {
    const v = inline ?? args[++i]
    if (v === undefined || !/^-?\d+$/.test(v)) {
      console.error(`${flag} needs an integer`)
      process.exit(2)
    }
    return v
  }
  if (flag === '--runs') env.FUZZ_RUNS = value()
  else if (flag === '--seed') env.FUZZ_SEED = value()
  else if (flag === '--verbose') env.FUZZ_VERBOSE = '1'
  else rest.push(arg)
}
const runs = Number(env.FUZZ_RUNS ?? 75)
// each operation's test gets 30 s plus 0.5 s per request; the hook timeout covers the fixtures
console.log(`contract fuzz: FUZZ_RUNS=${runs} FUZZ_SEED=${env.FUZZ_SEED ?? 42}${env.TEST_DATABASE_URL ? ' on PostgreSQL' : ''}`)
const child = spawn('npx', ['vitest', 'run', 'test/contract-fuzz.test.ts', ...rest], { stdio: 'inherit', env, shell: process.platform === 'win32' })
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
