-- AlterTable
ALTER TABLE "loans" ADD COLUMN     "asset_class" TEXT NOT NULL DEFAULT 'standard';

-- AlterTable
ALTER TABLE "demands" ADD COLUMN     "oi_accrued_exact" DECIMAL(65,0) NOT NULL DEFAULT 0,
ADD COLUMN     "oi_accrued_paise" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "pi_accrued_exact" DECIMAL(65,0) NOT NULL DEFAULT 0,
ADD COLUMN     "pi_charged_paise" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "pi_tax_paise" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "accruals" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "loan_id" UUID NOT NULL,
    "demand_id" UUID NOT NULL,
    "accrual_date" DATE NOT NULL,
    "component" TEXT NOT NULL,
    "amount_paise" BIGINT NOT NULL,
    "tax_paise" BIGINT NOT NULL DEFAULT 0,
    "in_suspense" BOOLEAN NOT NULL DEFAULT false,
    "exact_after" DECIMAL(65,0),
    "version" INTEGER NOT NULL DEFAULT 0,
    "reverses_id" UUID,
    "eod_run_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "accruals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "eod_runs" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "business_date" DATE NOT NULL,
    "status" TEXT NOT NULL,
    "trigger" TEXT NOT NULL DEFAULT 'api',
    "loans_total" INTEGER NOT NULL DEFAULT 0,
    "loans_done" INTEGER NOT NULL DEFAULT 0,
    "partitions_total" INTEGER NOT NULL DEFAULT 0,
    "partitions_done" INTEGER NOT NULL DEFAULT 0,
    "steps" JSONB NOT NULL DEFAULT '[]',
    "failures" JSONB NOT NULL DEFAULT '[]',
    "created_by" TEXT,
    "started_at" TIMESTAMPTZ(6),
    "finished_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "eod_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "eod_run_partitions" (
    "run_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "account_ids" UUID[],
    "loans" INTEGER NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "steps" JSONB NOT NULL DEFAULT '[]',
    "failures" JSONB NOT NULL DEFAULT '[]',
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "eod_run_partitions_pkey" PRIMARY KEY ("run_id","seq")
);

-- CreateIndex
CREATE INDEX "accruals_company_id_loan_id_accrual_date_idx" ON "accruals"("company_id", "loan_id", "accrual_date");

-- CreateIndex
CREATE INDEX "accruals_company_id_accrual_date_idx" ON "accruals"("company_id", "accrual_date");

-- CreateIndex
CREATE INDEX "eod_runs_company_id_created_at_id_idx" ON "eod_runs"("company_id", "created_at", "id");

-- AddForeignKey
ALTER TABLE "eod_run_partitions" ADD CONSTRAINT "eod_run_partitions_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "eod_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Constraints that schema.prisma cannot express (kept only here).
-- One accrual row per (demand, date, component) and version: a run killed midway and started
-- again cannot write a day twice. Reversal rows (reverses_id set) are outside the key.
CREATE UNIQUE INDEX "accruals_one_per_day" ON "accruals" ("demand_id", "accrual_date", "component", "version") WHERE "reverses_id" IS NULL;
ALTER TABLE "accruals" ADD CONSTRAINT "accruals_forms" CHECK (
  "component" IN ('NI', 'OI', 'PI')
  AND ("reverses_id" IS NOT NULL OR ("amount_paise" >= 0 AND "tax_paise" >= 0))
  AND ("component" = 'PI' OR "tax_paise" = 0)
);
ALTER TABLE "loans" ADD CONSTRAINT "loans_asset_class" CHECK ("asset_class" IN ('standard', 'sma_0', 'sma_1', 'sma_2', 'npa'));
ALTER TABLE "eod_runs" ADD CONSTRAINT "eod_runs_status" CHECK ("status" IN ('queued', 'running', 'completed', 'failed'));
ALTER TABLE "eod_run_partitions" ADD CONSTRAINT "eod_run_partitions_status" CHECK ("status" IN ('pending', 'done', 'failed'));
-- One run per company at a time.
CREATE UNIQUE INDEX "eod_runs_one_live" ON "eod_runs" ("company_id") WHERE "status" IN ('queued', 'running');
-- EOD finds the loans a date still has to close for; open loans are a small share of all loans.
CREATE INDEX "loans_eod_open" ON "loans" ("company_id", "account_id") WHERE "status" IN ('active', 'overdue', 'npa');
-- A row is reversed at most once; nearly every row reverses nothing, so only set values are indexed.
CREATE UNIQUE INDEX "accruals_reverses_id_key" ON "accruals" ("reverses_id") WHERE "reverses_id" IS NOT NULL;
-- EOD updates every open loan every night: keep the wide terms snapshot out of line, so that an
-- update of its few changing columns writes a short row and leaves the terms where they are.
ALTER TABLE "loans" ALTER COLUMN "terms" SET STORAGE EXTERNAL;
ALTER TABLE "loans" SET (toast_tuple_target = 128);
