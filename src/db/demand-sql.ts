// SQL for what a demand still owes, written once: outstanding = due - paid - waived per component.
import { Prisma } from '../generated/prisma/client.js';

export const DEMAND_COMPONENTS = ['p', 'ni', 'oi', 'pi', 'fee'] as const;
export type DemandComponent = (typeof DEMAND_COMPONENTS)[number];

/** Outstanding of one component of the demand row in scope. */
export const outstandingOf = (c: DemandComponent): Prisma.Sql => Prisma.raw(`(${c}_due_paise - ${c}_paid_paise - ${c}_waived_paise)`);

/** Outstanding of all components together. */
export const totalOutstanding: Prisma.Sql = Prisma.raw(DEMAND_COMPONENTS.map((c) => `(${c}_due_paise - ${c}_paid_paise - ${c}_waived_paise)`).join(' + '));

/** `COALESCE(SUM(outstanding), 0) AS <c><suffix>` for every component, optionally filtered. */
export function outstandingSums(suffix = '', filter?: Prisma.Sql): Prisma.Sql {
  return Prisma.join(DEMAND_COMPONENTS.map((c) => (filter
    ? Prisma.sql`COALESCE(SUM(${outstandingOf(c)}) FILTER (WHERE ${filter}), 0)::bigint AS ${Prisma.raw(`${c}${suffix}`)}`
    : Prisma.sql`COALESCE(SUM(${outstandingOf(c)}), 0)::bigint AS ${Prisma.raw(`${c}${suffix}`)}`)));
}
