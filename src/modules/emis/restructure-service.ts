// Restructure (POST emis/restructure/): being built; see issue 4.
import type { Database } from '../../db/database.js';
import type { LineDetailsService } from '../line-details/service.js';

export class RestructureService {
  constructor(private readonly db: Database, private readonly lineDetails: LineDetailsService) {}
}
