// Adjustments (cashback, holdback) and excess refunds: being built; see issue 5.
import type { Database } from '../../db/database.js';
import type { PayoutsService } from '../payouts/service.js';
import type { RecordsService } from './service.js';

export class AdjustmentsService {
  constructor(private readonly db: Database, private readonly records: RecordsService, private readonly payouts: PayoutsService) {}
}
