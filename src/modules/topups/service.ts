// Topups: being built; see issue 6.
import type { Database } from '../../db/database.js';
import type { LineDetailsService } from '../line-details/service.js';
import type { LoansService } from '../loans/service.js';
import type { PayoutsService } from '../payouts/service.js';

export class TopupsService {
  constructor(
    private readonly db: Database,
    private readonly lineDetails: LineDetailsService,
    private readonly loans: LoansService,
    private readonly payouts: PayoutsService,
  ) {}
}
