import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    // Most files wait on servers and timers, not the CPU: two at once on two cores (vitest's default is one).
    maxWorkers: 2,
    // Each file re-importing fastify, bullmq and twilio in a fresh process cost ~3 s; no module of ours keeps state.
    isolate: false,
    // Generous: a test that passes ends at once; one that spawns vigie needs the time on a busy machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
})
