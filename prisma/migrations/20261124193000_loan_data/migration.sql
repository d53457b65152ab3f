-- CreateTable
CREATE TABLE "loan_data" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "loan_id" UUID,
    "terms" JSONB NOT NULL,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loan_data_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "loan_data_company_id_account_id_idx" ON "loan_data"("company_id", "account_id");

-- CreateIndex
CREATE INDEX "loan_data_company_id_created_at_id_idx" ON "loan_data"("company_id", "created_at", "id");
