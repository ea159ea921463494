import assert from 'node:assert/strict';
import { it } from 'node:test';
import { compile, pipeline, readCsv, type Handle } from 'kiln';
import { addRatio } from '../../examples/steps/wage-features';

// Compiled by `tsc` in the test command: a user step from 'kiln' is as typed as a built-in one,
// and wiring it wrongly fails the build.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

const wired = pipeline({ name: 'user-step-types' }, (p) => {
  const raw = p.step(readCsv, { path: 'data.csv' });
  const ratio = p.step(addRatio, { dataset: raw.dataset, numerator: 'wage', denominator: 'education', as: 'r' });
  type _missing = Expect<Equal<typeof ratio.missing, Handle<number>>>;
  return { missing: ratio.missing };
});

const wrong = pipeline({ name: 'user-step-wrong' }, (p) => {
  const raw = p.step(readCsv, { path: 'data.csv' });
  // @ts-expect-error a readCsv summary is not a dataset
  p.step(addRatio, { dataset: raw.summary, numerator: 'wage', denominator: 'education', as: 'r' }, { id: 'summary' });
  // @ts-expect-error `as` is required
  p.step(addRatio, { dataset: raw.dataset, numerator: 'wage', denominator: 'education' }, { id: 'noAs' });
  // @ts-expect-error a column name is a string, not a number
  p.step(addRatio, { dataset: raw.dataset, numerator: 1, denominator: 'education', as: 'r' }, { id: 'number' });
});

it('compiles a pipeline wiring a user step from the kiln entry point', () => {
  const plan = compile(wired);
  assert.deepEqual(
    plan.nodes.map((n) => (n.type === 'step' ? n.step.name : n.type)),
    ['data.readCsv', 'features.addRatio'],
  );
});

it('refuses at compile time, too, what tsc refused: the first bad node, named with its field', () => {
  assert.throws(() => compile(wrong), { name: 'PlanError', message: /step '(summary|noAs|number)', field '\w+'/ });
});
