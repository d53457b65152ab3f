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

export function createServices(db: Database, auth: AuthSettings) {
  const lineDetails = new LineDetailsService(db);
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
    loans: new LoansService(db, lineDetails),
    accountOverview: new AccountOverviewService(db, lineDetails),
    fees: new FeesService(db),
  };
}

export type Services = ReturnType<typeof createServices>;
