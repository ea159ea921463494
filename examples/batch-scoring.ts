import { z } from 'zod';
import { readCsv, scoreRegistered } from '../activities/steps';
import { pipeline } from '../dsl';

/**
 * Batch scoring on a schedule: read the applicants file, score every row with the version
 * `credit-risk@production` names at the time of the run, and write the scored rows as CSV and,
 * given `table`, into that PostgreSQL table (in the worker's KILN_SOURCE_DATABASE_URL, or at
 * `table.url` on a host its KILN_SOURCE_HOSTS lists). Lineage runs from the model version and the
 * file's bytes to the scored dataset, the CSV and the table.
 *
 *   kiln schedule create nightly-scoring --pipeline examples/batch-scoring.ts --cron '0 2 * * *' \
 *     -p 'table={"name":"scores"}'
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
      table: scoreRegistered.input.shape.table.describe(
        'a PostgreSQL table to write the scored rows into as well: {"name":"scores","url"?:…,"mode"?:"append"|"replace"}',
      ),
    }),
  },
  (p, params) => {
    const applicants = p.step(readCsv, { path: params.data });
    return p.step(scoreRegistered, {
      model: params.model,
      dataset: applicants.dataset,
      threshold: params.threshold,
      output: params.output,
      table: params.table,
    });
  },
);
