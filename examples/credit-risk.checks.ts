import { defineChecks } from '../cli/check/declaration';

// What `kiln check` runs for credit-risk.ts besides compiling and type-checking it: the pipeline's
// own data checks (step 'quality') on a sample of the data, and its own gates (step 'gates') on the
// held-out metrics of a model, here those of the run examples/README.md reports.
export default defineChecks({
  data: [{ node: 'quality', sample: 'examples/data/german-credit.csv', label: 'class' }],
  models: [{ node: 'gates', metrics: 'examples/checks/credit-risk-metrics.json' }],
});
