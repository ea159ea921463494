import { z } from 'zod';
import { readCsv, scoreRegistered } from '../activities/steps';
import { pipeline } from '../dsl';

/**
 * Batch scoring on a schedule: read the applicants file, score every row with the version
 * `credit-risk@production` names at the time of the run, and write the scored rows as CSV.
 * Lineage runs from the model version and the file's bytes to the scored dataset and the CSV.
 *
 *   kiln schedule create nightly-scoring --pipeline examples/batch-scoring.ts --cron '0 2 * * *'
 */
export default pipeline(
  {
    name: 'batch-scoring',
    description: 'Score a CSV file with a registered model (name@alias) and write the scored rows as CSV',
    params: z.object({
      model: z.string().default('credit-risk@production'),
      data: z.string().default('examples/data/german-credit.csv'),
      output: z.string().default('scored/credit-risk.csv'),
      threshold: z.number().min(0).max(1).default(0.5),
    }),
  },
  (p, params) => {
    const applicants = p.step(readCsv, { path: params.data });
    return p.step(scoreRegistered, {
      model: params.model,
      dataset: applicants.dataset,
      threshold: params.threshold,
      output: params.output,
    });
  },
);
