-- CreateTable
CREATE TABLE "restructures" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "loan_id" UUID NOT NULL,
    "from_date" DATE NOT NULL,
    "from_schedule_version" INTEGER NOT NULL,
    "to_schedule_version" INTEGER NOT NULL,
    "overdue_treatment" TEXT NOT NULL,
    "old_rate" DECIMAL(9,6) NOT NULL,
    "new_rate" DECIMAL(9,6) NOT NULL,
    "old_emi_count" INTEGER NOT NULL,
    "new_emi_count" INTEGER NOT NULL,
    "old_emi_frequency" TEXT NOT NULL,
    "new_emi_frequency" TEXT NOT NULL,
    "old_maturity_date" DATE,
    "new_maturity_date" DATE NOT NULL,
    "principal_paise" BIGINT NOT NULL,
    "capitalised_paise" BIGINT NOT NULL,
    "ni_paise" BIGINT NOT NULL,
    "oi_paise" BIGINT NOT NULL,
    "pi_paise" BIGINT NOT NULL,
    "fee_paise" BIGINT NOT NULL,
    "accrued_interest_paise" BIGINT NOT NULL,
    "dropped_interest_paise" BIGINT NOT NULL,
    "separate_demand_id" UUID,
    "old_terms" JSONB NOT NULL,
    "demand_changes" JSONB NOT NULL,
    "remarks" TEXT,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "restructures_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "restructures_company_id_loan_id_created_at_idx" ON "restructures"("company_id", "loan_id", "created_at");

-- Amounts are never negative; a restructure always reschedules some principal and makes the next
-- schedule version; only capitalise adds to principal, and then exactly NI + OI + FEE: penal
-- charges (PI) are never capitalised.
ALTER TABLE "restructures" ADD CONSTRAINT "restructures_amounts" CHECK (
  "principal_paise" > 0 AND "ni_paise" >= 0 AND "oi_paise" >= 0 AND "pi_paise" >= 0 AND "fee_paise" >= 0 AND
  "accrued_interest_paise" >= 0 AND "accrued_interest_paise" <= "ni_paise" AND "dropped_interest_paise" >= 0 AND
  "capitalised_paise" = CASE WHEN "overdue_treatment" = 'capitalise' THEN "ni_paise" + "oi_paise" + "fee_paise" ELSE 0 END);
ALTER TABLE "restructures" ADD CONSTRAINT "restructures_terms" CHECK (
  "overdue_treatment" IN ('capitalise', 'separate_demand', 'first_emi') AND "to_schedule_version" = "from_schedule_version" + 1 AND
  "new_emi_count" >= 1 AND "old_rate" >= 0 AND "new_rate" >= 0 AND "new_rate" <= 100);
