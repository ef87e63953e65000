import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globals: false,
    // Integration files start their own nats-server and Postgres database, so connecting, creating
    // streams and waiting for actors takes real seconds on a 2-core box.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel (each owns its server and database), but every file also drives
    // nats-server and Postgres processes: more than two workers on two cores only adds contention
    // and flaky timeouts.
    fileParallelism: true,
    maxWorkers: 2,
    // A stray `.only` must fail the run rather than quietly skip everything else.
    allowOnly: false,
  },
})
