-- CreateTable
CREATE TABLE "loans" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "ref_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "principal_paise" BIGINT NOT NULL,
    "disbursed_paise" BIGINT NOT NULL DEFAULT 0,
    "net_disbursal_paise" BIGINT NOT NULL,
    "upfront_interest_paise" BIGINT NOT NULL DEFAULT 0,
    "terms" JSONB NOT NULL,
    "loan_params_id" UUID,
    "params_version" INTEGER,
    "loan_data_id" UUID,
    "line_type" TEXT NOT NULL DEFAULT 'primary',
    "requested_date" DATE NOT NULL,
    "disbursement_date" DATE,
    "maturity_date" DATE,
    "schedule_version" INTEGER NOT NULL DEFAULT 0,
    "dpd" INTEGER NOT NULL DEFAULT 0,
    "peak_dpd" INTEGER NOT NULL DEFAULT 0,
    "last_eod_date" DATE,
    "closed_at" TIMESTAMPTZ(6),
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "demands" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "loan_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "installment_number" INTEGER,
    "schedule_version" INTEGER NOT NULL,
    "period_start" DATE,
    "due_date" DATE NOT NULL,
    "status" TEXT NOT NULL,
    "p_due_paise" BIGINT NOT NULL DEFAULT 0,
    "ni_due_paise" BIGINT NOT NULL DEFAULT 0,
    "oi_due_paise" BIGINT NOT NULL DEFAULT 0,
    "pi_due_paise" BIGINT NOT NULL DEFAULT 0,
    "fee_due_paise" BIGINT NOT NULL DEFAULT 0,
    "p_paid_paise" BIGINT NOT NULL DEFAULT 0,
    "ni_paid_paise" BIGINT NOT NULL DEFAULT 0,
    "oi_paid_paise" BIGINT NOT NULL DEFAULT 0,
    "pi_paid_paise" BIGINT NOT NULL DEFAULT 0,
    "fee_paid_paise" BIGINT NOT NULL DEFAULT 0,
    "p_waived_paise" BIGINT NOT NULL DEFAULT 0,
    "ni_waived_paise" BIGINT NOT NULL DEFAULT 0,
    "oi_waived_paise" BIGINT NOT NULL DEFAULT 0,
    "pi_waived_paise" BIGINT NOT NULL DEFAULT 0,
    "fee_waived_paise" BIGINT NOT NULL DEFAULT 0,
    "dpd" INTEGER NOT NULL DEFAULT 0,
    "peak_dpd" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "demands_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payouts" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "loan_id" UUID,
    "ref_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "amount_paise" BIGINT NOT NULL,
    "method" TEXT,
    "status" TEXT NOT NULL,
    "utr" TEXT,
    "processed_at" TIMESTAMPTZ(6),
    "bank_date" DATE,
    "failed_remark" TEXT,
    "is_downloaded" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payouts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ref_counters" (
    "company_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "value" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "ref_counters_pkey" PRIMARY KEY ("company_id","kind")
);

-- CreateIndex
CREATE INDEX "loans_company_id_account_id_idx" ON "loans"("company_id", "account_id");

-- CreateIndex
CREATE INDEX "loans_company_id_status_idx" ON "loans"("company_id", "status");

-- CreateIndex
CREATE INDEX "loans_company_id_created_at_id_idx" ON "loans"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "loans_company_id_ref_id_key" ON "loans"("company_id", "ref_id");

-- CreateIndex
CREATE INDEX "demands_company_id_loan_id_due_date_idx" ON "demands"("company_id", "loan_id", "due_date");

-- CreateIndex
CREATE INDEX "demands_company_id_account_id_due_date_idx" ON "demands"("company_id", "account_id", "due_date");

-- CreateIndex
CREATE INDEX "demands_company_id_status_due_date_idx" ON "demands"("company_id", "status", "due_date");

-- CreateIndex
CREATE INDEX "payouts_company_id_loan_id_idx" ON "payouts"("company_id", "loan_id");

-- CreateIndex
CREATE INDEX "payouts_company_id_status_idx" ON "payouts"("company_id", "status");

-- CreateIndex
CREATE INDEX "payouts_company_id_created_at_id_idx" ON "payouts"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "payouts_company_id_ref_id_key" ON "payouts"("company_id", "ref_id");

-- AddForeignKey
ALTER TABLE "demands" ADD CONSTRAINT "demands_loan_id_fkey" FOREIGN KEY ("loan_id") REFERENCES "loans"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Nothing is ever paid or waived beyond its due, and nothing is negative.
ALTER TABLE "demands" ADD CONSTRAINT "demands_components_within_due" CHECK (
  "p_paid_paise" >= 0 AND "p_waived_paise" >= 0 AND "p_paid_paise" + "p_waived_paise" <= "p_due_paise" AND
  "ni_paid_paise" >= 0 AND "ni_waived_paise" >= 0 AND "ni_paid_paise" + "ni_waived_paise" <= "ni_due_paise" AND
  "oi_paid_paise" >= 0 AND "oi_waived_paise" >= 0 AND "oi_paid_paise" + "oi_waived_paise" <= "oi_due_paise" AND
  "pi_paid_paise" >= 0 AND "pi_waived_paise" >= 0 AND "pi_paid_paise" + "pi_waived_paise" <= "pi_due_paise" AND
  "fee_paid_paise" >= 0 AND "fee_waived_paise" >= 0 AND "fee_paid_paise" + "fee_waived_paise" <= "fee_due_paise");
ALTER TABLE "loans" ADD CONSTRAINT "loans_amounts_non_negative" CHECK ("principal_paise" > 0 AND "disbursed_paise" >= 0 AND "net_disbursal_paise" >= 0);
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_amount_positive" CHECK ("amount_paise" > 0);
