import { readCsvImpl } from './read-csv';
import { splitImpl } from './split';
import { readJsonlImpl } from './read-jsonl';
import { readPostgresImpl } from './read-postgres';
import { checkQualityImpl } from './check-quality';
import { thresholdLabelImpl } from './threshold';

export { readCsv, splitDataset } from './steps';
export { readCsvImpl, splitImpl };
export { readJsonl, readPostgres, checkQuality } from './steps';
export { readJsonlImpl, readPostgresImpl, checkQualityImpl };
export { DATA_QUALITY_FAILED, type QualityReport, type QualityFailureDetails } from './check-quality';
export { qualityCheck, type QualityCheck, type QualityFailure } from './quality-schema';
export { thresholdLabel } from './steps';
export { median, thresholdLabelImpl } from './threshold';
export {
  loadDataset,
  readDatasetValues,
  streamRows,
  writeDataset,
  DatasetFormatError,
  type Column,
  type Dataset,
  type DatasetHeader,
  type Row,
} from './dataset';
export { MISSING_TOKENS, parseCell, type Cell } from './cells';
export { CsvParser, CsvSyntaxError, parseCsv, type CsvRecord } from './csv';
export { INVALID_DATA, invalidData } from './invalid';
export { mulberry32, shuffleInPlace } from './random';

/** The data steps' implementations, for a worker to register. */
export const dataSteps = [
  readCsvImpl,
  splitImpl,
  thresholdLabelImpl,
  readJsonlImpl,
  readPostgresImpl,
  checkQualityImpl,
];
