import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30000,
    hookTimeout: 120000,
    // fast-check runs are sized by FC_NUM_RUNS where a property says so.
  },
});
