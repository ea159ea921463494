import { pipeline, readCsv, splitDataset, z } from 'kiln';
import { addRatio } from './wage-features';

/** Built-in steps and a user step in one pipeline: read the wages, add a derived column, split. */
export default pipeline(
  {
    name: 'wage-ratio',
    params: z.object({ data: z.string().default('examples/data/cps-wages-1985.csv') }),
  },
  (p, params) => {
    const raw = p.step(readCsv, { path: params.data });
    const ratio = p.step(addRatio, {
      dataset: raw.dataset,
      numerator: 'wage',
      denominator: 'education',
      as: 'wagePerSchoolYear',
    });
    const split = p.step(splitDataset, { dataset: ratio.dataset, testFraction: 0.2, seed: 7 });
    return { train: split.train, test: split.test, missing: ratio.missing };
  },
);
