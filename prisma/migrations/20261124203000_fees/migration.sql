-- CreateTable
CREATE TABLE "fees" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "loan_id" UUID NOT NULL,
    "demand_id" UUID NOT NULL,
    "fee_type" TEXT NOT NULL,
    "amount_paise" BIGINT NOT NULL,
    "gst_rate" TEXT NOT NULL,
    "gst_paise" BIGINT NOT NULL,
    "due_date" DATE NOT NULL,
    "status" TEXT NOT NULL,
    "remarks" TEXT,
    "created_by" TEXT,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fees_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "fees_company_id_loan_id_idx" ON "fees"("company_id", "loan_id");

-- CreateIndex
CREATE INDEX "fees_company_id_created_at_id_idx" ON "fees"("company_id", "created_at", "id");
ALTER TABLE "fees" ADD CONSTRAINT "fees_amounts" CHECK ("amount_paise" > 0 AND "gst_paise" >= 0);
