import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../../activities/common/random';
import { fitLogisticLbfgs, type LogisticProblem } from '../../../activities/train/logistic-lbfgs';

// A fixed dataset of 30 rows and 3 features (numpy default_rng(3), rounded to 2 places), with a
// binary and a three-class label. The expected coefficients were computed once with
// scikit-learn 1.9.1 (bench/.venv): LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(X, y).
// scikit-learn minimizes C·Σ loss + ½‖W‖², the same minimum as Kiln's mean loss + l2·‖W‖² at
// l2 = 1 / (2·C·n).
const X = [
  [2.04, -2.56, 0.42], [-0.57, -0.45, -0.22], [-2.02, -0.23, -0.87], [3.32, 0.23, -0.35], [-0.28, -0.67, -1.06],
  [-0.39, 0.48, -0.24], [0.96, -0.2, 0.02], [1.55, 0.55, -0.51], [-0.18, 0.54, 1.94], [-0.27, -0.24, 1.0],
  [-0.89, -0.29, 0.88], [0.58, 0.09, 0.67], [-2.83, 1.02, -0.96], [-1.67, 0.28, 0.7], [-0.44, -1.08, 0.03],
  [-0.05, 1.41, 0.75], [0.19, 1.11, -0.21], [-0.93, 0.58, 0.58], [-0.21, -0.78, 0.23], [-2.49, 0.69, 0.49],
  [-1.64, 0.06, -0.96], [0.76, -2.03, -0.91], [0.71, 1.16, -2.16], [-0.5, 0.33, -0.61], [1.59, -1.19, 0.35],
  [-1.05, 1.41, -0.02], [-0.37, -1.72, 1.68], [0.75, 0.75, 1.14], [0.35, -0.64, -0.8], [-0.8, 1.37, -1.46],
]; // prettier-ignore
const binaryLabel = [1, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0];
const threeLabel = [2, 1, 2, 0, 2, 1, 0, 0, 0, 1, 1, 2, 1, 1, 2, 0, 1, 1, 0, 1, 1, 2, 1, 2, 0, 1, 2, 0, 1, 1];
const sklearn = {
  binary: {
    coef: [[1.6770888729857998, -1.2291239456233058, 0.9936581800890423]],
    intercept: [0.020813230270845064],
  },
  three: {
    coef: [
      [1.0090454717396993, 0.5133316659406107, 0.6934553569361204],
      [-0.6747094963939939, 0.5386029392219374, -0.3072823008587833],
      [-0.33433597534570525, -1.051934605162548, -0.3861730560773367],
    ],
    intercept: [-0.240968513307391, 0.4386807677887828, -0.19771225448139185],
  },
};

function problemOf(rows: number[][], label: number[], classes: number, l2: number): LogisticProblem {
  const outputs = classes === 2 ? 1 : classes;
  const targets = new Float32Array(rows.length * outputs);
  label.forEach((k, i) => {
    if (outputs === 1) targets[i] = k;
    else targets[i * outputs + k] = 1;
  });
  return { features: Float32Array.from(rows.flat()), targets, rows: rows.length, inputs: rows[0]!.length, outputs, l2 };
}

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} against ${expected}`);

/** Newton's method on the binary objective, its 4×4 (or so) system solved by Gaussian elimination: an independent reference. */
function newtonReference(problem: LogisticProblem): number[] {
  const { features, targets, rows, inputs: d, l2 } = problem;
  const size = d + 1;
  const theta = new Array<number>(size).fill(0);
  const row = (i: number) => [...features.subarray(i * d, (i + 1) * d), 1];
  for (let step = 0; step < 50; step++) {
    const g = new Array<number>(size).fill(0);
    const h = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    for (let i = 0; i < rows; i++) {
      const x = row(i);
      const p = 1 / (1 + Math.exp(-x.reduce((s, v, j) => s + v * theta[j]!, 0)));
      for (let a = 0; a < size; a++) {
        g[a]! += ((p - targets[i]!) * x[a]!) / rows;
        for (let b = 0; b < size; b++) h[a]![b]! += (p * (1 - p) * x[a]! * x[b]!) / rows;
      }
    }
    for (let a = 0; a < d; a++) {
      g[a]! += 2 * l2 * theta[a]!;
      h[a]![a]! += 2 * l2;
    }
    // Solve h·delta = g.
    const m = h.map((r, a) => [...r, g[a]!]);
    for (let c = 0; c < size; c++) {
      const pivot = m.reduce((best, r, a) => (a >= c && Math.abs(r[c]!) > Math.abs(m[best]![c]!) ? a : best), c);
      [m[c], m[pivot]] = [m[pivot]!, m[c]!];
      for (let a = 0; a < size; a++) {
        if (a === c) continue;
        const f = m[a]![c]! / m[c]![c]!;
        for (let b = c; b <= size; b++) m[a]![b]! -= f * m[c]![b]!;
      }
    }
    for (let a = 0; a < size; a++) theta[a]! -= m[a]![size]! / m[a]![a]!;
  }
  return theta;
}

describe('logistic regression by L-BFGS', () => {
  it("matches scikit-learn's coefficients for two classes", () => {
    const fit = fitLogisticLbfgs(problemOf(X, binaryLabel, 2, 1 / (2 * 1 * X.length)), { maxIterations: 200 });
    assert.ok(fit.converged);
    sklearn.binary.coef[0]!.forEach((c, j) => close(fit.weights[j]!, c, 1e-5, `weight ${j}`));
    close(fit.bias[0]!, sklearn.binary.intercept[0]!, 1e-5, 'bias');
  });

  it("matches scikit-learn's multinomial coefficients for three classes", () => {
    const fit = fitLogisticLbfgs(problemOf(X, threeLabel, 3, 1 / (2 * 1 * X.length)), { maxIterations: 500 });
    assert.ok(fit.converged);
    // Kiln's weights are [inputs][classes]; scikit-learn's coef_ is [classes][inputs].
    sklearn.three.coef.forEach((perClass, k) =>
      perClass.forEach((c, j) => close(fit.weights[j * 3 + k]!, c, 1e-5, `class ${k} weight ${j}`)),
    );
    sklearn.three.intercept.forEach((b, k) => close(fit.bias[k]!, b, 1e-5, `class ${k} bias`));
  });

  it("reaches Newton's minimum on seeded data, with and without the penalty", () => {
    const random = mulberry32(11);
    const rows = Array.from({ length: 500 }, () => Array.from({ length: 4 }, () => random() * 4 - 2));
    const label = rows.map((x) => (x[0]! - 2 * x[1]! + 0.5 * x[3]! + (random() * 4 - 2) > 0 ? 1 : 0));
    for (const l2 of [0, 0.01]) {
      const problem = problemOf(rows, label, 2, l2);
      const fit = fitLogisticLbfgs(problem, { maxIterations: 500 });
      const reference = newtonReference(problem);
      reference.slice(0, 4).forEach((w, j) => close(fit.weights[j]!, w, 1e-5, `l2 ${l2} weight ${j}`));
      close(fit.bias[0]!, reference[4]!, 1e-5, `l2 ${l2} bias`);
    }
  });

  it('reports each iteration with a loss that never rises, and stops at maxIterations', () => {
    const seen: Array<[number, number]> = [];
    const problem = problemOf(X, threeLabel, 3, 0.001);
    const fit = fitLogisticLbfgs(problem, { maxIterations: 4, onIteration: (i, loss) => seen.push([i, loss]) });
    assert.deepEqual(
      seen.map(([i]) => i),
      [1, 2, 3, 4],
    );
    seen.slice(1).forEach(([, loss], i) => assert.ok(loss <= seen[i]![1], `iteration ${i + 2} raised the loss`));
    assert.equal(fit.iterations, 4);
    assert.equal(fit.converged, false);
    assert.equal(fit.loss, seen.at(-1)![1]);
  });

  it('fails as TrainingDiverged when the loss is not a number', () => {
    const problem = problemOf(X, binaryLabel, 2, 0);
    problem.features[7] = NaN;
    assert.throws(
      () => fitLogisticLbfgs(problem, { maxIterations: 10 }),
      (error: Error & { type?: string; nonRetryable?: boolean }) => {
        assert.equal(error.type, 'TrainingDiverged');
        assert.equal(error.nonRetryable, true);
        assert.match(error.message, /training diverged: the loss is NaN at iteration 0 of 10/);
        return true;
      },
    );
  });
});
