// NACH mandates, presentations and the bank's status file: being built; see issue 5.
import type { Database } from '../../db/database.js';
import type { FeesService } from '../fees/service.js';
import type { RecordsService } from './service.js';

export class NachService {
  constructor(private readonly db: Database, private readonly records: RecordsService, private readonly fees: FeesService) {}
}
