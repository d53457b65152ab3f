import { EXPORT_COLUMNS } from './export.js';

export { BULK_RECORDS_MAX } from './bulk.js';
export const EXPORT_COLUMNS_HINT = EXPORT_COLUMNS.join(', ');
