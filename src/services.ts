// The service layer, built once per app from its dependencies.
import type { Database } from './db/database.js';
import { AccountsService } from './modules/accounts/service.js';
import { ApiTokensService } from './modules/api-tokens/service.js';
import { AuthService, type AuthSettings } from './modules/auth/service.js';
import { CollectionBanksService } from './modules/collection-banks/service.js';
import { CompaniesService } from './modules/companies/service.js';
import { LineDetailsService } from './modules/line-details/service.js';
import { LoanParamsService } from './modules/loan-params/service.js';
import { ExtraDataService } from './modules/extra-data/service.js';
import { LoanDataService } from './modules/loan-data/service.js';
import { LoansService } from './modules/loans/service.js';
import { AccountOverviewService } from './modules/account-overview/service.js';
import { FeesService } from './modules/fees/service.js';
import { UsersService } from './modules/users/service.js';
import { RestructureService } from './modules/emis/restructure-service.js';
import { PayoutsService } from './modules/payouts/service.js';
import { PayoutCallbacks } from './modules/payouts/callbacks.js';
import { PayoutExporter } from './modules/payouts/export.js';
import { TranchesService } from './modules/loans/tranches.js';
import { Ledger } from './modules/records/ledger.js';
import { RecordsService } from './modules/records/service.js';
import { AdjustmentsService } from './modules/records/adjustments.js';
import { NachService } from './modules/records/nach.js';
import { BulkRecords } from './modules/records/bulk.js';
import { RecordExporter } from './modules/records/export.js';
import { TopupsService } from './modules/topups/service.js';
import { EodService, type EodSettings } from './modules/eod/service.js';
import { AccrualsService } from './modules/eod/accruals.js';

export function createServices(db: Database, auth: AuthSettings, eod: EodSettings = { partitionLoans: 1000 }) {
  const lineDetails = new LineDetailsService(db);
  // Payouts sit below loans and topups: they carry a purpose, and the modules that own the
  // purpose register what happens when a payout succeeds, fails or is retried.
  const payouts = new PayoutsService(db);
  const loans = new LoansService(db, lineDetails, payouts);
  const records = new RecordsService(db, new Ledger(db, lineDetails));
  const fees = new FeesService(db);
  return {
    auth: new AuthService(db, auth),
    companies: new CompaniesService(db),
    users: new UsersService(db),
    apiTokens: new ApiTokensService(db),
    collectionBanks: new CollectionBanksService(db),
    accounts: new AccountsService(db),
    lineDetails,
    loanParams: new LoanParamsService(db, lineDetails),
    loanData: new LoanDataService(db),
    extraData: new ExtraDataService(db),
    payouts,
    payoutCallbacks: new PayoutCallbacks(db, payouts),
    payoutExports: new PayoutExporter(db, payouts),
    loans,
    tranches: new TranchesService(db, lineDetails, loans, payouts),
    topups: new TopupsService(db, lineDetails, loans, payouts),
    restructure: new RestructureService(db, lineDetails),
    records,
    recordBulk: new BulkRecords(db),
    recordExports: new RecordExporter(db),
    adjustments: new AdjustmentsService(db, records, payouts),
    nach: new NachService(db, records, fees),
    accountOverview: new AccountOverviewService(db, lineDetails),
    fees,
    eod: new EodService(db, eod),
    accruals: new AccrualsService(db),
  };
}

export type Services = ReturnType<typeof createServices>;
