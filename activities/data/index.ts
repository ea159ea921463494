import { readCsvImpl } from './read-csv';
import { readJsonlImpl } from './read-jsonl';
import { readPostgresImpl } from './read-postgres';
import { splitImpl } from './split';
import { thresholdLabelImpl } from './threshold';
import { checkQualityImpl } from './quality';

/** The data steps' implementations, for a worker to register. */
export const dataSteps = [
  readCsvImpl,
  splitImpl,
  thresholdLabelImpl,
  readJsonlImpl,
  readPostgresImpl,
  checkQualityImpl,
];
