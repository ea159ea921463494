import { readCsvImpl } from './read-csv';
import { splitImpl } from './split';
import { thresholdLabelImpl } from './threshold';

export { readCsv, splitDataset } from './steps';
export { readCsvImpl, splitImpl };
export { thresholdLabel } from './steps';
export { median, thresholdLabelImpl } from './threshold';
export { loadDataset, readDatasetValues, streamRows, writeDataset, DatasetFormatError, type Column, type Dataset, type DatasetHeader, type Row } from './dataset';
export { MISSING_TOKENS, parseCell, type Cell } from './cells';
export { CsvParser, CsvSyntaxError, parseCsv, type CsvRecord } from './csv';
export { INVALID_DATA, invalidData } from './invalid';
export { mulberry32, shuffleInPlace } from './random';

/** The data steps' implementations, for a worker to register. */
export const dataSteps = [readCsvImpl, splitImpl, thresholdLabelImpl];
