-- CreateTable
CREATE TABLE "line_details" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "approved_paise" BIGINT NOT NULL,
    "available_paise" BIGINT NOT NULL,
    "used_paise" BIGINT NOT NULL DEFAULT 0,
    "blocked_paise" BIGINT NOT NULL DEFAULT 0,
    "valid_from" DATE,
    "valid_till" DATE,
    "remarks" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "line_details_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "loan_params" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "lead_id" UUID NOT NULL,
    "program_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "params" JSONB NOT NULL,
    "line_amount_paise" BIGINT,
    "created_by" TEXT,
    "updated_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loan_params_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "loan_params_versions" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "loan_params_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "params" JSONB NOT NULL,
    "changes" JSONB NOT NULL,
    "changed_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "loan_params_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "extra_data" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" UUID NOT NULL,
    "data" JSONB NOT NULL,
    "updated_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "extra_data_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "line_details_company_id_created_at_id_idx" ON "line_details"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "line_details_company_id_account_id_type_key" ON "line_details"("company_id", "account_id", "type");

-- CreateIndex
CREATE INDEX "loan_params_company_id_created_at_id_idx" ON "loan_params"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "loan_params_company_id_lead_id_program_id_key" ON "loan_params"("company_id", "lead_id", "program_id");

-- CreateIndex
CREATE UNIQUE INDEX "loan_params_versions_loan_params_id_version_key" ON "loan_params_versions"("loan_params_id", "version");

-- CreateIndex
CREATE INDEX "extra_data_company_id_created_at_id_idx" ON "extra_data"("company_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "extra_data_company_id_entity_type_entity_id_key" ON "extra_data"("company_id", "entity_type", "entity_id");

-- AddForeignKey
ALTER TABLE "line_details" ADD CONSTRAINT "line_details_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "loan_params_versions" ADD CONSTRAINT "loan_params_versions_loan_params_id_fkey" FOREIGN KEY ("loan_params_id") REFERENCES "loan_params"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The limit invariant, enforced by the database as well as by the code.
ALTER TABLE "line_details" ADD CONSTRAINT "line_details_limit_invariant"
  CHECK ("approved_paise" = "available_paise" + "used_paise" + "blocked_paise"
         AND "approved_paise" >= 0 AND "available_paise" >= 0 AND "used_paise" >= 0 AND "blocked_paise" >= 0);

-- Accounts created before line details existed get their sanctioned limit as a primary line.
INSERT INTO "line_details" ("id", "company_id", "account_id", "type", "status", "approved_paise", "available_paise", "used_paise", "blocked_paise")
SELECT gen_random_uuid(), "company_id", "id", 'primary', 'active', "sanctioned_limit_paise", "sanctioned_limit_paise", 0, 0
FROM "accounts";
