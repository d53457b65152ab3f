// Calculate EMI: a stateless calculator over the schedule domain code. No database.
import { DomainError } from '../../errors.js';
import type { DayCount } from '../../domain/interest.js';
import { slabBound, type Slab } from '../../domain/loan-params.js';
import {
  amortisingSchedule, bulletSchedule, flatSchedule, type Frequency, type InterestStarts, type Schedule,
} from '../../domain/schedule.js';
import type { BusinessDate } from '../../domain/time.js';

export interface CalculateInput {
  type: 'emi' | 'flat' | 'bullet';
  amount: bigint;
  rate?: string;
  roi_value?: Slab[];
  tenure: number;
  frequency: Frequency;
  day_count: DayCount;
  disbursement_date: BusinessDate;
  first_due_date?: BusinessDate;
  interest_starts: InterestStarts;
}

export function calculate(input: CalculateInput): Schedule {
  if (input.first_due_date && input.first_due_date <= input.disbursement_date) {
    throw new DomainError('VALIDATION_ERROR', 'first_due_date: must be after disbursement_date', { first_due_date: ['must be after disbursement_date'] });
  }
  if (input.type === 'bullet') {
    const slabs = input.roi_value ?? (input.rate !== undefined ? [{ days: -1, value: input.rate }] : null);
    if (!slabs) throw new DomainError('VALIDATION_ERROR', 'rate: rate or roi_value is required', { rate: ['rate or roi_value is required'] });
    if (input.day_count === '30/360' || input.day_count === 'actual/actual') {
      throw new DomainError('VALIDATION_ERROR', 'day_count: bullet loans count actual days over 360 or 365', { day_count: ['must be actual/365 or actual/360 for a bullet loan'] });
    }
    return bulletSchedule({
      principal: input.amount, tenureDays: input.tenure, disbursementDate: input.disbursement_date, interestStarts: input.interest_starts,
      yearDays: input.day_count === 'actual/360' ? 360n : 365n,
      slabs: slabs.map((s) => ({ upToDay: slabBound(s.days), rate: s.value })),
    });
  }
  if (input.rate === undefined) throw new DomainError('VALIDATION_ERROR', 'rate: is required', { rate: ['is required'] });
  const common = { principal: input.amount, count: input.tenure, frequency: input.frequency, disbursementDate: input.disbursement_date, firstDueDate: input.first_due_date };
  return input.type === 'flat'
    ? flatSchedule({ ...common, flatRate: input.rate })
    : amortisingSchedule({ ...common, rate: input.rate, dayCount: input.day_count });
}
