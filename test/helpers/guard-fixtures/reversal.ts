import type { GuardFixture } from './types.js';

// Revert takes the records' foreign id (records.ts creates it); it needs a body that validates.
export const fixture: GuardFixture = {
  bodies: {
    'PUT /v1/lms/records/:id/revert/': { reason: 'bounced cheque' },
  },
};
