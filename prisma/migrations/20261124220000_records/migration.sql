-- AlterTable
ALTER TABLE "payouts" ADD COLUMN     "record_id" UUID;

-- CreateTable
CREATE TABLE "records" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID,
    "ref_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "payment_mode" TEXT,
    "received_paise" BIGINT NOT NULL,
    "tds_paise" BIGINT NOT NULL DEFAULT 0,
    "amount_paise" BIGINT NOT NULL,
    "remaining_paise" BIGINT NOT NULL DEFAULT 0,
    "reserved_paise" BIGINT NOT NULL DEFAULT 0,
    "refunded_paise" BIGINT NOT NULL DEFAULT 0,
    "adjusted_paise" BIGINT NOT NULL DEFAULT 0,
    "settlement_order" TEXT NOT NULL,
    "component_order" TEXT NOT NULL,
    "excess_handling" TEXT,
    "utr" TEXT,
    "settlement_utr" TEXT,
    "pg_service_id" TEXT,
    "record_date" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "value_date" DATE,
    "settled_at" TIMESTAMPTZ(6),
    "bank_date" DATE,
    "collection_bank_id" UUID,
    "remark" TEXT,
    "uploaded_by" TEXT,
    "uploaded_by_id" UUID,
    "back_date_found" BOOLEAN NOT NULL DEFAULT false,
    "back_date_marked_on" TIMESTAMPTZ(6),
    "cashback_loan_id" UUID,
    "holdback_loan_id" UUID,
    "loan_ids" UUID[] DEFAULT ARRAY[]::UUID[],
    "payer" JSONB,
    "approval_required" BOOLEAN NOT NULL DEFAULT false,
    "approval_requested_by" TEXT,
    "approval_requested_at" TIMESTAMPTZ(6),
    "approved_by" TEXT,
    "approved_at" TIMESTAMPTZ(6),
    "rejected_by" TEXT,
    "rejected_at" TIMESTAMPTZ(6),
    "approval_remarks" TEXT,
    "processed_by" TEXT,
    "processed_at" TIMESTAMPTZ(6),
    "reverted_at" TIMESTAMPTZ(6),
    "revert_value_date" DATE,
    "revert_reason" TEXT,
    "failure_reason" TEXT,
    "umrn" TEXT,
    "nach_batch" TEXT,
    "presented_demand_ids" UUID[] DEFAULT ARRAY[]::UUID[],
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "settlements" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "record_id" UUID NOT NULL,
    "loan_id" UUID NOT NULL,
    "demand_id" UUID NOT NULL,
    "component" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "amount_paise" BIGINT NOT NULL,
    "reverses_id" UUID,
    "value_date" DATE NOT NULL,
    "remaining_after_paise" BIGINT NOT NULL,
    "demand_outstanding_paise" BIGINT NOT NULL,
    "demand_due_paise" BIGINT NOT NULL,
    "dpd" INTEGER NOT NULL DEFAULT 0,
    "peak_dpd" INTEGER NOT NULL DEFAULT 0,
    "sent_to_gl" BOOLEAN NOT NULL DEFAULT false,
    "to_be_deleted" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "settlements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nach_mandates" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "umrn" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "max_amount_paise" BIGINT,
    "bank_account_no" TEXT,
    "ifsc" TEXT,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "nach_mandates_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "records_company_id_account_id_status_idx" ON "records"("company_id", "account_id", "status");

-- CreateIndex
CREATE INDEX "records_company_id_status_created_at_idx" ON "records"("company_id", "status", "created_at");

-- CreateIndex
CREATE INDEX "records_company_id_created_at_id_idx" ON "records"("company_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "records_company_id_nach_batch_idx" ON "records"("company_id", "nach_batch");

-- CreateIndex
CREATE UNIQUE INDEX "records_company_id_ref_id_key" ON "records"("company_id", "ref_id");

-- CreateIndex
CREATE UNIQUE INDEX "records_company_id_utr_key" ON "records"("company_id", "utr");

-- CreateIndex
CREATE UNIQUE INDEX "settlements_reverses_id_key" ON "settlements"("reverses_id");

-- CreateIndex
CREATE INDEX "settlements_company_id_record_id_idx" ON "settlements"("company_id", "record_id");

-- CreateIndex
CREATE INDEX "settlements_company_id_demand_id_idx" ON "settlements"("company_id", "demand_id");

-- CreateIndex
CREATE INDEX "settlements_company_id_loan_id_value_date_idx" ON "settlements"("company_id", "loan_id", "value_date");

-- CreateIndex
CREATE INDEX "settlements_company_id_account_id_value_date_idx" ON "settlements"("company_id", "account_id", "value_date");

-- CreateIndex
CREATE INDEX "settlements_company_id_created_at_id_idx" ON "settlements"("company_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "nach_mandates_company_id_account_id_idx" ON "nach_mandates"("company_id", "account_id");

-- CreateIndex
CREATE INDEX "nach_mandates_company_id_created_at_id_idx" ON "nach_mandates"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "nach_mandates_company_id_umrn_key" ON "nach_mandates"("company_id", "umrn");

ALTER TABLE "records" ADD CONSTRAINT "records_amounts" CHECK (
  "received_paise" >= 0 AND "tds_paise" >= 0 AND "amount_paise" = "received_paise" + "tds_paise"
  AND "remaining_paise" >= 0 AND "reserved_paise" >= 0 AND "reserved_paise" <= "remaining_paise"
  AND "refunded_paise" >= 0 AND "adjusted_paise" >= 0 AND "remaining_paise" <= "amount_paise");
ALTER TABLE "settlements" ADD CONSTRAINT "settlements_amount" CHECK (
  "amount_paise" <> 0 AND (("reverses_id" IS NULL) = ("amount_paise" > 0))
  AND "component" IN ('P', 'NI', 'OI', 'PI', 'FEE') AND "remaining_after_paise" >= 0);
ALTER TABLE "nach_mandates" ADD CONSTRAINT "nach_mandates_umrn" CHECK (length("umrn") = 20);
