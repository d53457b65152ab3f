import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTopupScheduler } from '../../src/jobs/topup-scheduler.js';
import type { ScheduledRun } from '../../src/modules/topups/service.js';

const run = (asOf: string, over: Partial<ScheduledRun> = {}): ScheduledRun => ({ asOf, disbursed: [], checksFailed: [], skipped: 0, errors: [], ...over });
const logger = () => ({ info: vi.fn(), error: vi.fn() });

describe('topup scheduler', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('runs at once, then every interval after the previous run ends, for the IST date', async () => {
    const calls: string[] = [];
    const disburseScheduled = vi.fn(async (asOf: string) => { calls.push(asOf); return run(asOf, { disbursed: ['TOP0000001'] }); });
    const log = logger();
    // 20:00 UTC on 31 Dec is already 1 Jan in IST.
    const scheduler = startTopupScheduler({ topups: { disburseScheduled }, intervalSeconds: 60, log, now: () => new Date('2024-12-31T20:00:00Z') });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['2025-01-01']);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(2);
    expect(log.info).toHaveBeenCalledWith(expect.objectContaining({ disbursed: ['TOP0000001'] }), 'scheduled topups run');
    await scheduler.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toHaveLength(2);
  });

  it('logs a failed run and per-topup errors, and keeps going', async () => {
    const disburseScheduled = vi.fn()
      .mockRejectedValueOnce(new Error('database down'))
      .mockResolvedValue(run('2025-01-01', { errors: [{ topup: 'id-1', message: 'boom' }] }));
    const log = logger();
    const scheduler = startTopupScheduler({ topups: { disburseScheduled }, intervalSeconds: 5, log });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(disburseScheduled).toHaveBeenCalledTimes(2);
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'scheduled topups run failed');
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ topup: 'id-1', message: 'boom' }), 'scheduled topup could not be paid out');
    await scheduler.stop();
  });

  it('stop() waits for the run in progress; interval 0 never runs', async () => {
    let finish!: () => void;
    const disburseScheduled = vi.fn(() => new Promise<ScheduledRun>((resolve) => { finish = () => resolve(run('2025-01-01')); }));
    const scheduler = startTopupScheduler({ topups: { disburseScheduled }, intervalSeconds: 60, log: logger() });
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = scheduler.stop().then(() => { stopped = true; });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);

    const never = vi.fn();
    const disabled = startTopupScheduler({ topups: { disburseScheduled: never }, intervalSeconds: 0, log: logger() });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(never).not.toHaveBeenCalled();
    await disabled.stop();
  });
});
