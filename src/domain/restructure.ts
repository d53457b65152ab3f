// Restructure as a pure plan: a loan's outstanding principal is rescheduled from a date under a
// new tenure and rate, and what the borrower owed as of that date in interest and charges is
// moved as the caller chose (capitalised, kept as one separate demand, or added to the first new
// EMI). Penal charges (PI) are never capitalised (RBI penal charges circular): they go to the
// separate demand or stay PI on the first new EMI.
//
// What moves, and why:
// - Every EMI demand with anything outstanding is taken off the old schedule. A demand with
//   nothing paid or waived is cancelled (kept as history under its old schedule_version); a
//   demand with something paid or waived is trimmed: each component's due becomes exactly its
//   paid + waived, so every settled rupee stays where it was and the demand shows as settled.
// - Other demands (fees, an earlier restructure's arrears) move only if due on or before the
//   from date; later ones are not yet owed and stay as they are.
// - Principal outstanding moves whole into the new schedule. NI, OI and FEE of demands due on or
//   before the from date are arrears; so is the interest of the running period accrued up to the
//   day before the from date (the new schedule charges interest from the from date itself, so
//   no day is charged twice and none is lost). Interest of later periods is not owed yet: it is
//   dropped with the old schedule and replaced by the new schedule's interest.
// - No EMI after the from date may carry a payment or waiver: a restructure cannot start before
//   money already settled on the schedule.
import { daysBetween } from './dates.js';
import { dayCountOf, simpleInterest, yearFraction } from './interest.js';
import type { StoredParams } from './loan-params.js';
import { loanKindOf, scheduleFor } from './loan-terms.js';
import { roundDiv } from './money.js';
import type { Frequency } from './schedule.js';
import type { BusinessDate } from './time.js';

export const OVERDUE_TREATMENTS = ['capitalise', 'separate_demand', 'first_emi'] as const;
export type OverdueTreatment = (typeof OVERDUE_TREATMENTS)[number];

/** Paise per component of a demand. */
export interface Components {
  p: bigint;
  ni: bigint;
  oi: bigint;
  pi: bigint;
  fee: bigint;
}

const KEYS = ['p', 'ni', 'oi', 'pi', 'fee'] as const;
export const NO_COMPONENTS: Components = { p: 0n, ni: 0n, oi: 0n, pi: 0n, fee: 0n };
const zip = (a: Components, b: Components, f: (x: bigint, y: bigint) => bigint): Components =>
  ({ p: f(a.p, b.p), ni: f(a.ni, b.ni), oi: f(a.oi, b.oi), pi: f(a.pi, b.pi), fee: f(a.fee, b.fee) });
export const addComponents = (a: Components, b: Components) => zip(a, b, (x, y) => x + y);
export const sumComponents = (c: Components) => KEYS.reduce((s, k) => s + c[k], 0n);

export interface ExistingDemand {
  id: string;
  /** 'emi' for schedule installments; anything else ('fee', 'arrears') is a standalone demand. */
  kind: string;
  installmentNumber: number | null;
  periodStart: BusinessDate | null;
  dueDate: BusinessDate;
  due: Components;
  paid: Components;
  waived: Components;
}

export interface RestructureTerms {
  fromDate: BusinessDate;
  emiCount: number;
  /** Annual rate in percent, a decimal string. */
  rate: string;
  frequency: Frequency;
  treatment: OverdueTreatment;
}

export interface NewDemand {
  number: number | null;
  periodStart: BusinessDate | null;
  dueDate: BusinessDate;
  due: Components;
}

export interface RestructurePlan {
  treatment: OverdueTreatment;
  /** Untouched demands taken off the schedule: cancelled, kept as history. */
  cancel: string[];
  /** Settled-in-part demands: their dues become paid + waived (`due` is the new due). */
  trim: { id: string; before: Components; due: Components }[];
  /** Principal outstanding over the demands that moved. */
  outstandingPrincipal: bigint;
  /** Arrears that moved (NI includes the running period's accrued interest). */
  arrears: Components;
  /** Interest of the running period accrued up to the day before the from date (part of arrears.ni). */
  accruedInterest: bigint;
  /** Scheduled interest not yet accrued, dropped with the old schedule. */
  droppedInterest: bigint;
  /** NI + OI + FEE added to principal (capitalise only; never PI). */
  capitalised: bigint;
  newPrincipal: bigint;
  /** The new schedule's installments, numbered after the demands that stay; extras already added. */
  installments: NewDemand[];
  /** Arrears added to the first new installment (first_emi), each in its own component. */
  firstEmiExtra: Components;
  /** The separate arrears demand, due on the from date, or null. */
  separate: NewDemand | null;
  terms: StoredParams;
}

/** A request that the loan's state cannot take; `field` names the request field. */
export class RestructureError extends Error {
  override name = 'RestructureError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export const outstandingOf = (d: ExistingDemand): Components => zip(zip(d.due, d.paid, (x, y) => x - y), d.waived, (x, y) => x - y);
const touched = (d: ExistingDemand) => sumComponents(d.paid) + sumComponents(d.waived) > 0n;

/** The loan's terms with the restructured tenure, frequency and rate in place. */
export function restructuredTerms(terms: StoredParams, r: Pick<RestructureTerms, 'emiCount' | 'rate' | 'frequency'>): StoredParams {
  const base = { ...terms, emi_count: r.emiCount, emi_frequency: r.frequency };
  return loanKindOf(terms) === 'flat'
    ? { ...base, flat_roi_value: r.rate }
    : { ...base, roi_slab_based: false, roi_value: [{ days: -1, value: r.rate }] };
}

/** The rate the loan charges now: the flat rate, or the single open-ended slab. */
export function currentRate(terms: StoredParams): string {
  const rate = loanKindOf(terms) === 'flat' ? terms.flat_roi_value : terms.roi_value.at(-1)?.value;
  if (rate === undefined || rate === null) throw new RestructureError('rate', 'the loan names no interest rate; state one');
  return rate;
}

/** Which demands move, checked against the from date. */
function movingDemands(demands: readonly ExistingDemand[], from: BusinessDate): ExistingDemand[] {
  const moving = demands.filter((d) => sumComponents(outstandingOf(d)) > 0n && (d.kind === 'emi' || d.dueDate <= from));
  const settledLater = demands.filter((d) => d.kind === 'emi' && d.dueDate > from && touched(d)).map((d) => d.dueDate).sort().at(-1);
  if (settledLater) {
    throw new RestructureError('from_date', `must be on or after ${settledLater}: an installment due then already has payments or waivers`);
  }
  return moving;
}

/**
 * Interest of the running period (the first EMI due after the from date) accrued on the days
 * from its start to the day before the from date, capped at what that installment charges.
 */
function accruedOfRunning(terms: StoredParams, moving: readonly ExistingDemand[], from: BusinessDate): bigint {
  const future = moving.filter((d) => d.kind === 'emi' && d.dueDate > from)
    .sort((a, b) => (a.dueDate === b.dueDate ? (a.installmentNumber ?? 0) - (b.installmentNumber ?? 0) : a.dueDate < b.dueDate ? -1 : 1));
  const running = future[0];
  if (!running?.periodStart || running.periodStart >= from) return 0n;
  const cap = outstandingOf(running).ni;
  let accrued: bigint;
  if (loanKindOf(terms) === 'flat') {
    const length = BigInt(Math.max(1, daysBetween(running.periodStart, running.dueDate)));
    accrued = roundDiv(running.due.ni * BigInt(daysBetween(running.periodStart, from)), length);
  } else {
    // The scheduled opening principal of the running period: its principal and all later principal.
    const opening = future.reduce((s, d) => s + d.due.p, 0n);
    const interest = simpleInterest(opening, currentRate(terms), yearFraction(running.periodStart, from, dayCountOf(terms.days_in_year, terms.days_in_month)));
    accrued = roundDiv(interest.num, interest.den);
  }
  return accrued < cap ? accrued : cap;
}

/** What the moving demands owed as of the from date, by component. */
function owedAsOf(terms: StoredParams, moving: readonly ExistingDemand[], from: BusinessDate) {
  let arrears = NO_COMPONENTS;
  let futureInterest = 0n;
  for (const d of moving) {
    const out = outstandingOf(d);
    if (d.dueDate > from) {
      // Only EMIs move before they fall due; their NI is replaced, except what has accrued.
      futureInterest += out.ni;
      arrears = addComponents(arrears, { ...out, ni: 0n });
    } else {
      arrears = addComponents(arrears, out);
    }
  }
  const accruedInterest = accruedOfRunning(terms, moving, from);
  const principal = arrears.p;
  return { principal, arrears: { ...arrears, p: 0n, ni: arrears.ni + accruedInterest }, accruedInterest, droppedInterest: futureInterest - accruedInterest };
}

export function planRestructure(terms: StoredParams, demands: readonly ExistingDemand[], r: RestructureTerms): RestructurePlan {
  if (loanKindOf(terms) === 'bullet') throw new RestructureError('loan', 'only EMI loans can be restructured; this is a bullet loan');
  if (!Number.isInteger(r.emiCount) || r.emiCount < 1) throw new RestructureError('emi_count', 'must be at least 1');
  const moving = movingDemands(demands, r.fromDate);
  const { principal, arrears, accruedInterest, droppedInterest } = owedAsOf(terms, moving, r.fromDate);
  if (principal === 0n) throw new RestructureError('loan', 'the loan has no principal outstanding to restructure');
  const capitalised = r.treatment === 'capitalise' ? arrears.ni + arrears.oi + arrears.fee : 0n;
  const newTerms = restructuredTerms(terms, r);
  const schedule = scheduleFor(newTerms, principal + capitalised, r.fromDate);
  const movingIds = new Set(moving.map((d) => d.id));
  const stays = demands.filter((d) => d.kind === 'emi' && (!movingIds.has(d.id) || touched(d)));
  const firstNumber = Math.max(0, ...stays.map((d) => d.installmentNumber ?? 0)) + 1;
  const extra = r.treatment === 'first_emi' ? { ...arrears } : NO_COMPONENTS;
  const installments = schedule.installments.map((i, index) => ({
    number: firstNumber + index, periodStart: i.periodStart, dueDate: i.dueDate,
    due: addComponents({ ...NO_COMPONENTS, p: i.principal, ni: i.interest }, index === 0 ? extra : NO_COMPONENTS),
  }));
  const separateDue = r.treatment === 'separate_demand' ? arrears : r.treatment === 'capitalise' ? { ...NO_COMPONENTS, pi: arrears.pi } : NO_COMPONENTS;
  const plan: RestructurePlan = {
    treatment: r.treatment,
    cancel: moving.filter((d) => !touched(d)).map((d) => d.id),
    trim: moving.filter(touched).map((d) => ({ id: d.id, before: d.due, due: addComponents(d.paid, d.waived) })),
    outstandingPrincipal: principal, arrears, accruedInterest, droppedInterest, capitalised, newPrincipal: principal + capitalised,
    installments, firstEmiExtra: extra,
    separate: sumComponents(separateDue) > 0n ? { number: null, periodStart: null, dueDate: r.fromDate, due: separateDue } : null,
    terms: newTerms,
  };
  assertConserved(plan, moving);
  return plan;
}

/**
 * The plan's own invariants, checked before anything is written: what the moving demands owed
 * as of the from date reappears exactly on the new demands; principal takes NI, OI and FEE only
 * under capitalise and never PI; nothing is negative. A failure is a bug, never a client error.
 */
function assertConserved(plan: RestructurePlan, moving: readonly ExistingDemand[]): void {
  const owedBefore = moving.reduce((s, d) => s + sumComponents(outstandingOf(d)), 0n) - plan.droppedInterest;
  const newPrincipal = plan.installments.reduce((s, i) => s + i.due.p, 0n);
  const owedAfter = newPrincipal + sumComponents(plan.firstEmiExtra) + (plan.separate ? sumComponents(plan.separate.due) : 0n);
  const problems: string[] = [];
  if (newPrincipal !== plan.newPrincipal) problems.push('the new installments do not sum to the rescheduled principal');
  if (plan.newPrincipal !== plan.outstandingPrincipal + plan.capitalised) problems.push('principal took more than principal and capitalised arrears');
  if (plan.capitalised > plan.arrears.ni + plan.arrears.oi + plan.arrears.fee) problems.push('capitalised more than NI, OI and FEE');
  if (owedAfter !== owedBefore) problems.push(`owed before ${owedBefore} != owed after ${owedAfter}`);
  if (plan.droppedInterest < 0n) problems.push('negative dropped interest');
  const all = [...plan.installments.map((i) => i.due), plan.firstEmiExtra, ...(plan.separate ? [plan.separate.due] : []), ...plan.trim.map((t) => t.due)];
  if (all.some((c) => KEYS.some((k) => c[k] < 0n))) problems.push('a negative component');
  if (problems.length > 0) throw new Error(`restructure plan broken: ${problems.join('; ')}`);
}
