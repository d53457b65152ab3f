-- One active NACH mandate per account, and a mandate's UMRN and status in their forms.
-- (Partial indexes and CHECKs cannot be written in schema.prisma; they live only here.)
CREATE UNIQUE INDEX "nach_mandates_one_active" ON "nach_mandates" ("company_id", "account_id") WHERE "status" = 'active';
ALTER TABLE "nach_mandates" ADD CONSTRAINT "nach_mandates_forms" CHECK ("umrn" ~ '^[A-Z0-9]{20}$' AND "status" IN ('active', 'cancelled'));
