import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'sdk/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PostgreSQL runs get real concurrency; each file opens its own PGlite or pool
    fileParallelism: true,
    reporters: ['default'],
  },
})
