import type { GuardFixture } from './types.js';

// Loans and records already have foreign fixtures (base and records.ts): only bodies are needed.
export const fixture: GuardFixture = {
  bodies: {
    'POST /v1/lms/loans/:id/adjustments/': { amount: 1, type: 'cashback' },
    'POST /v1/lms/records/adjustments/': { adjustments: [{ loan: '00000000-0000-4000-8000-000000000000', amount: 1, type: 'cashback' }] },
    'POST /v1/lms/records/:id/initiate_excess_refund/': { amount: 1, credit_bank: { account_no: '50100012345678', ifsc: 'HDFC0001234', account_holder_name: 'Guard' } },
    'POST /v1/lms/loans/:id/refunds/': { amount: 1, credit_bank: { account_no: '50100012345678', ifsc: 'HDFC0001234', account_holder_name: 'Guard' } },
  },
};
