-- AlterTable
ALTER TABLE "companies" ADD COLUMN     "payout_callback_secret" TEXT;

-- AlterTable
ALTER TABLE "loans" ADD COLUMN     "sanctioned_paise" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "topup_id" UUID;

-- AlterTable
ALTER TABLE "payouts" ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "created_by" TEXT,
ADD COLUMN     "credit_account_name" TEXT,
ADD COLUMN     "credit_account_no" TEXT,
ADD COLUMN     "credit_ifsc" TEXT,
ADD COLUMN     "debit_bank_id" UUID,
ADD COLUMN     "exported_at" TIMESTAMPTZ(6),
ADD COLUMN     "payout_to" TEXT NOT NULL DEFAULT 'borrower',
ADD COLUMN     "topup_id" UUID,
ADD COLUMN     "tranche_id" UUID;

-- CreateTable
CREATE TABLE "payout_attempts" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "payout_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "bank_reference" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "utr" TEXT,
    "failed_remark" TEXT,
    "exported_at" TIMESTAMPTZ(6),
    "processed_at" TIMESTAMPTZ(6),
    "bank_date" DATE,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payout_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payout_callbacks" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "reference" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "utr" TEXT,
    "payload" JSONB NOT NULL,
    "outcome" TEXT NOT NULL,
    "payout_id" UUID,
    "detail" TEXT,
    "resolved_at" TIMESTAMPTZ(6),
    "resolved_by" TEXT,
    "resolution" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payout_callbacks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tranches" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "loan_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "amount_paise" BIGINT NOT NULL,
    "status" TEXT NOT NULL,
    "disbursement_date" DATE,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tranches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "topup_groups" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "ref_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "remarks" TEXT,
    "approved_by" TEXT,
    "approved_at" TIMESTAMPTZ(6),
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topup_groups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "topups" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "topup_group_id" UUID,
    "ref_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "amount_paise" BIGINT NOT NULL,
    "blocked_paise" BIGINT NOT NULL DEFAULT 0,
    "line_type" TEXT NOT NULL DEFAULT 'primary',
    "loan_data_id" UUID,
    "anchor_id" TEXT,
    "invoice_number" TEXT,
    "invoice_date" DATE,
    "invoice_amount_paise" BIGINT,
    "due_date" DATE,
    "disbursement_date" DATE,
    "irn" TEXT,
    "seller_gstin" TEXT,
    "buyer_gstin" TEXT,
    "invoice" JSONB,
    "checks" JSONB NOT NULL DEFAULT '[]',
    "checked_at" TIMESTAMPTZ(6),
    "loan_id" UUID,
    "payout_id" UUID,
    "credit_account_no" TEXT,
    "credit_ifsc" TEXT,
    "credit_account_name" TEXT,
    "payout_to" TEXT NOT NULL DEFAULT 'borrower',
    "remarks" TEXT,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topups_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "payout_attempts_payout_id_attempt_key" ON "payout_attempts"("payout_id", "attempt");

-- CreateIndex
CREATE UNIQUE INDEX "payout_attempts_company_id_bank_reference_key" ON "payout_attempts"("company_id", "bank_reference");

-- CreateIndex
CREATE INDEX "payout_callbacks_company_id_outcome_created_at_idx" ON "payout_callbacks"("company_id", "outcome", "created_at");

-- CreateIndex
CREATE INDEX "payout_callbacks_company_id_reference_idx" ON "payout_callbacks"("company_id", "reference");

-- CreateIndex
CREATE INDEX "tranches_company_id_loan_id_idx" ON "tranches"("company_id", "loan_id");

-- CreateIndex
CREATE UNIQUE INDEX "tranches_loan_id_number_key" ON "tranches"("loan_id", "number");

-- CreateIndex
CREATE INDEX "topup_groups_company_id_created_at_id_idx" ON "topup_groups"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "topup_groups_company_id_ref_id_key" ON "topup_groups"("company_id", "ref_id");

-- CreateIndex
CREATE INDEX "topups_company_id_account_id_invoice_number_idx" ON "topups"("company_id", "account_id", "invoice_number");

-- CreateIndex
CREATE INDEX "topups_company_id_status_disbursement_date_idx" ON "topups"("company_id", "status", "disbursement_date");

-- CreateIndex
CREATE INDEX "topups_company_id_topup_group_id_idx" ON "topups"("company_id", "topup_group_id");

-- CreateIndex
CREATE INDEX "topups_company_id_created_at_id_idx" ON "topups"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "topups_company_id_ref_id_key" ON "topups"("company_id", "ref_id");

-- CreateIndex
CREATE INDEX "payouts_company_id_topup_id_idx" ON "payouts"("company_id", "topup_id");

-- Backfill: a one-tranche loan is sanctioned for its principal; every existing payout has its first attempt.
UPDATE "loans" SET "sanctioned_paise" = "principal_paise" WHERE "sanctioned_paise" = 0;
INSERT INTO "payout_attempts" ("id", "company_id", "payout_id", "attempt", "bank_reference", "status", "utr", "failed_remark", "processed_at", "bank_date", "created_at", "updated_at")
SELECT "id", "company_id", "id", 1, "ref_id" || '-1', "status", "utr", "failed_remark", "processed_at", "bank_date", "created_at", "updated_at" FROM "payouts";

ALTER TABLE "loans" ADD CONSTRAINT "loans_sanctioned" CHECK ("sanctioned_paise" >= "principal_paise");
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_attempt" CHECK ("attempt" >= 1);
ALTER TABLE "payout_attempts" ADD CONSTRAINT "payout_attempts_status" CHECK ("status" IN ('requested', 'processing', 'processed', 'failed', 'cancelled'));
ALTER TABLE "tranches" ADD CONSTRAINT "tranches_amount" CHECK ("amount_paise" > 0 AND "number" >= 1);
ALTER TABLE "topups" ADD CONSTRAINT "topups_amounts" CHECK ("amount_paise" > 0 AND "blocked_paise" >= 0 AND "blocked_paise" <= "amount_paise" AND ("invoice_amount_paise" IS NULL OR "invoice_amount_paise" >= 0));

-- One payout is never transferred twice: at most one of its attempts is not failed or cancelled.
-- (A partial index cannot be written in schema.prisma; it lives only here.)
CREATE UNIQUE INDEX "payout_attempts_one_live" ON "payout_attempts" ("payout_id") WHERE "status" NOT IN ('failed', 'cancelled');
