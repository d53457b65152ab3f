// One run of the scheduled-topup job (the queue repeats it: see test/api/eod.test.ts).
import { describe, expect, it, vi } from 'vitest';
import { runScheduledTopups } from '../../src/jobs/topup-scheduler.js';
import type { ScheduledRun } from '../../src/modules/topups/service.js';

const run = (asOf: string, over: Partial<ScheduledRun> = {}): ScheduledRun => ({ asOf, disbursed: [], checksFailed: [], skipped: 0, errors: [], ...over });
const logger = () => ({ info: vi.fn(), error: vi.fn() });

describe('scheduled topups run', () => {
  it('pays out as of the IST date and logs what it did', async () => {
    const disburseScheduled = vi.fn(async (asOf: string) => run(asOf, { disbursed: ['TOP0000001'] }));
    const log = logger();
    // 20:00 UTC on 31 Dec is already 1 Jan in IST.
    const result = await runScheduledTopups({ topups: { disburseScheduled }, log, now: () => new Date('2024-12-31T20:00:00Z') });
    expect(disburseScheduled).toHaveBeenCalledWith('2025-01-01');
    expect(result.disbursed).toEqual(['TOP0000001']);
    expect(log.info).toHaveBeenCalledWith(expect.objectContaining({ as_of: '2025-01-01', disbursed: ['TOP0000001'] }), 'scheduled topups run');
  });

  it('stays quiet when nothing was due', async () => {
    const log = logger();
    await runScheduledTopups({ topups: { disburseScheduled: async (asOf) => run(asOf) }, log });
    expect(log.info).not.toHaveBeenCalled();
    expect(log.error).not.toHaveBeenCalled();
  });

  it('logs each topup it could not pay, and a failed run (then fails, for the queue to retry)', async () => {
    const log = logger();
    await runScheduledTopups({ topups: { disburseScheduled: async (asOf) => run(asOf, { errors: [{ topup: 'id-1', message: 'boom' }] }) }, log });
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ topup: 'id-1', message: 'boom' }), 'scheduled topup could not be paid out');
    const failing = { disburseScheduled: vi.fn().mockRejectedValue(new Error('database down')) };
    await expect(runScheduledTopups({ topups: failing, log })).rejects.toThrow('database down');
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'scheduled topups run failed');
  });
});
