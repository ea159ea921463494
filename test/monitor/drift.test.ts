// Drift statistics against SciPy 1.17.1 and Evidently 0.7.23 on the vendored sensor network data. The constants
// below were printed by this snippet, run from the repository root in bench/.venv (bash bench/monitor/run.sh makes it);
// each test names the line (A, B, ...) its constants come from.
//
//   import numpy as np, pandas as pd
//   from scipy import stats
//   from evidently import DataDefinition, Dataset, Report
//   from evidently.presets import DataDriftPreset
//   from evidently.legacy.calculations.stattests import get_stattest
//   from evidently.legacy.calculations.stattests.registry import get_registered_stattest
//   from evidently.legacy.core import ColumnType as T
//   d = pd.read_csv('examples/data/sensor-network-stream.csv')
//   d['mote'] = d.mote_id.astype(str)
//   d['anomaly'] = np.where(d.label == 1, 'anomaly', 'normal')
//   r = d.reading
//   def rows(a, b): return d[(r > a) & (r <= b)]
//   def default(ref, cur, kind):
//       t = get_stattest(ref, cur, kind, None); return t.name, repr(float(t(ref, cur, kind, None).drift_score))
//   def by_name(name, ref, cur, kind):
//       return repr(float(get_registered_stattest(name, kind)(ref, cur, kind, None).drift_score))
//   ref, cur = rows(3000, 3250), rows(3250, 3253)
//   print('A', stats.ks_2samp(ref.humidity, cur.humidity), stats.ks_2samp(ref.temperature, cur.temperature))
//   ref, cur = rows(1000, 1250), rows(1250, 1258)
//   print('B', default(ref.humidity, cur.humidity, T.Numerical), stats.ks_2samp(ref.humidity, cur.humidity).statistic)
//   ref, cur = rows(4000, 4250), rows(4380, 4430)
//   keys = sorted(set(ref.mote) | set(cur.mote))
//   print('C', default(ref.mote, cur.mote, T.Categorical), stats.chisquare([(cur.mote == k).sum() for k in keys],
//         [(ref.mote == k).sum() * len(cur) / len(ref) for k in keys]).statistic)
//   m = d.mote_id.isin([1, 4])
//   ref, cur = d[m & (r > 2300) & (r <= 2400)], d[m & (r > 2400) & (r <= 2460)]
//   print('D', default(ref.anomaly, cur.anomaly, T.Categorical), default(ref.label, cur.label, T.Numerical))
//   ref, cur = d[r <= 3000], d[(r > 1500) & (r <= 1510) & (r % 2 == 0)]
//   print('E', stats.ks_2samp(ref.humidity, cur.humidity), stats.ks_2samp(ref.temperature, cur.temperature))
//   ref, cur = rows(0, 1500), rows(3000, 5041)
//   print('F', default(ref.humidity, cur.humidity, T.Numerical), default(ref.temperature, cur.temperature, T.Numerical),
//         default(ref.mote, cur.mote, T.Categorical), by_name('psi', ref.humidity, cur.humidity, T.Numerical),
//         by_name('psi', ref.mote, cur.mote, T.Categorical), by_name('psi', ref.mote_id, cur.mote_id, T.Numerical),
//         by_name('jensenshannon', ref.temperature, cur.temperature, T.Numerical),
//         by_name('chisquare', ref.mote, cur.mote, T.Categorical))
//   cols = ['humidity', 'temperature', 'mote', 'anomaly']
//   dd = DataDefinition(numerical_columns=cols[:2], categorical_columns=cols[2:])
//   snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur[cols], data_definition=dd),
//                                          Dataset.from_pandas(ref[cols], data_definition=dd))
//   print('F report', [(m['metric_name'], m['value']) for m in snap.dict()['metrics']])
//   for n, x in [(12, 0.3), (20, 0.2436666666666667), (141, 0.1), (1000, 0.04), (100001, 0.004),
//                (400000, 0.0026586680735012757)]:
//       print('K', n, x, repr(float(stats.kstwo.sf(x, n))))
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type CategoricalColumn,
  datasetDrift,
  DriftInputError,
  type FeatureDrift,
  featureDrift,
  type MeasuredDrift,
  predictionDrift,
} from '../../monitor/drift';
import { kolmogorovSf } from '../../monitor/drift/kolmogorov';
import { sortFloat64 } from '../../monitor/drift/sort';

const TOLERANCE = 1e-6;

interface Reading {
  reading: number;
  mote: number;
  humidity: number;
  temperature: number;
  label: number;
}

const sensor: Reading[] = readFileSync('examples/data/sensor-network-stream.csv', 'utf8')
  .trimEnd()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [reading, mote, , humidity, temperature, label] = line.split(',').map(Number);
    return { reading: reading!, mote: mote!, humidity: humidity!, temperature: temperature!, label: label! };
  });

const between = (a: number, b: number) => sensor.filter((s) => s.reading > a && s.reading <= b);
const num = (rows: Reading[], key: 'humidity' | 'temperature' | 'label' | 'mote') =>
  Float64Array.from(rows, (s) => s[key]);
const motes = (rows: Reading[]): CategoricalColumn => rows.map((s) => String(s.mote));
const anomalies = (rows: Reading[]): CategoricalColumn => rows.map((s) => (s.label === 1 ? 'anomaly' : 'normal'));

function measured(r: FeatureDrift): MeasuredDrift {
  assert.equal(r.status, 'measured', `${r.feature} was not measured: ${JSON.stringify(r)}`);
  return r as MeasuredDrift;
}

function close(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= TOLERANCE, `${what}: ${actual} vs ${expected}`);
}

describe('statistics against SciPy and Evidently on the sensor data', () => {
  it('computes the exact KS statistic and p-value of a 12-row window against 1,000 reference rows (A)', () => {
    const ref = between(3000, 3250);
    const cur = between(3250, 3253);
    assert.equal(ref.length, 1000);
    const h = measured(featureDrift(num(ref, 'humidity'), num(cur, 'humidity'), { minRows: 1 }));
    assert.equal(h.test, 'ks');
    close(h.statistic, 0.5, 'D humidity');
    close(h.pValue, 0.002908156400744691, 'p humidity');
    assert.equal(h.drifted, true);
    const t = measured(featureDrift(num(ref, 'temperature'), num(cur, 'temperature'), { minRows: 1 }));
    close(t.statistic, 0.36, 'D temperature');
    close(t.pValue, 0.06996928624157711, 'p temperature');
    assert.equal(t.drifted, false);
  });

  it('reports a window under the row floor as insufficient data, not drift (A)', () => {
    const r = featureDrift(num(between(3000, 3250), 'humidity'), num(between(3250, 3253), 'humidity'), {
      feature: 'humidity',
    });
    assert.deepEqual(r, {
      status: 'insufficientData',
      feature: 'humidity',
      kind: 'numeric',
      currentRows: 12,
      minRows: 30,
      drifted: false,
    });
  });

  it("picks KS for a numeric feature with a reference of at most 1,000 rows, with Evidently's p-value (B)", () => {
    const r = measured(featureDrift(num(between(1000, 1250), 'humidity'), num(between(1250, 1258), 'humidity')));
    assert.equal(r.test, 'ks');
    close(r.score, 4.731134833059199e-7, 'p');
    close(r.statistic, 0.479, 'D');
    assert.equal(r.threshold, 0.05);
  });

  it('picks chi-square for a categorical feature of more than two values under 1,000 reference rows (C)', () => {
    const r = measured(featureDrift(motes(between(4000, 4250)), motes(between(4380, 4430))));
    assert.equal(r.test, 'chisquare');
    assert.equal(r.currentRows, 174);
    close(r.pValue, 0.27414633032726965, 'p');
    close(r.statistic, 3.8850574712643677, 'chi-square');
    assert.equal(r.drifted, false);
  });

  it('picks the Z-test for binary features, categorical or numeric 0/1 (D)', () => {
    const keep = sensor.filter((s) => s.mote === 1 || s.mote === 4);
    const ref = keep.filter((s) => s.reading > 2300 && s.reading <= 2400);
    const cur = keep.filter((s) => s.reading > 2400 && s.reading <= 2460);
    const cat = measured(featureDrift(anomalies(ref), anomalies(cur)));
    assert.equal(cat.test, 'z');
    close(cat.pValue, 0.339634700819899, 'p categorical');
    const bin = measured(featureDrift(num(ref, 'label'), num(cur, 'label')));
    assert.equal(bin.test, 'z');
    close(bin.pValue, 0.33963470081989966, 'p numeric');
  });

  it('uses the asymptotic KS p-value when a sample has more than 10,000 values (E)', () => {
    const ref = sensor.filter((s) => s.reading <= 3000);
    const cur = sensor.filter((s) => s.reading > 1500 && s.reading <= 1510 && s.reading % 2 === 0);
    assert.equal(ref.length, 12000);
    const h = measured(featureDrift(num(ref, 'humidity'), num(cur, 'humidity'), { test: 'ks', minRows: 1 }));
    close(h.statistic, 0.2436666666666667, 'D humidity');
    close(h.pValue, 0.15696324044209542, 'p humidity');
    const t = measured(featureDrift(num(ref, 'temperature'), num(cur, 'temperature'), { test: 'ks', minRows: 1 }));
    close(t.statistic, 0.36, 'D temperature');
    close(t.pValue, 0.007923778193511866, 'p temperature');
  });

  it('picks normed Wasserstein and Jensen–Shannon above 1,000 reference rows (F)', () => {
    const ref = between(0, 1500);
    const cur = between(3000, 5041);
    const h = measured(featureDrift(num(ref, 'humidity'), num(cur, 'humidity')));
    assert.equal(h.test, 'wasserstein');
    close(h.statistic, 0.590224526868426, 'humidity');
    const t = measured(featureDrift(num(ref, 'temperature'), num(cur, 'temperature')));
    close(t.statistic, 2.31510381531317, 'temperature');
    const m = measured(featureDrift(motes(ref), motes(cur)));
    assert.equal(m.test, 'jensenshannon');
    close(m.statistic, 0.06402087663194803, 'mote');
    assert.equal(m.drifted, false);
  });

  it("computes PSI on Evidently's bins: sturges histogram, per-value counts, per-category counts (F)", () => {
    const ref = between(0, 1500);
    const cur = between(3000, 5041);
    close(
      measured(featureDrift(num(ref, 'humidity'), num(cur, 'humidity'), { test: 'psi' })).statistic,
      2.4334598767581603,
      'psi humidity',
    );
    close(measured(featureDrift(motes(ref), motes(cur), { test: 'psi' })).statistic, 0.03283583950161281, 'psi mote');
    close(
      measured(featureDrift(num(ref, 'mote'), num(cur, 'mote'), { test: 'psi' })).statistic,
      0.03283583950161281,
      'psi mote as numbers',
    );
    close(
      measured(featureDrift(num(ref, 'temperature'), num(cur, 'temperature'), { test: 'jensenshannon' })).statistic,
      0.7540394286433652,
      'jensenshannon temperature',
    );
    close(
      measured(featureDrift(motes(ref), motes(cur), { test: 'chisquare' })).pValue,
      2.0872025081366948e-48,
      'chisquare mote',
    );
  });

  it("agrees with Evidently's Report on the dataset: two of four features drift, share 0.5, so the dataset drifts (F)", () => {
    const ref = between(0, 1500);
    const cur = between(3000, 5041);
    const columns = (rows: Reading[]) => ({
      humidity: num(rows, 'humidity'),
      temperature: num(rows, 'temperature'),
      mote: motes(rows),
      anomaly: anomalies(rows),
    });
    const report = datasetDrift(columns(ref), columns(cur), {
      humidity: 'numeric',
      temperature: 'numeric',
      mote: 'categorical',
      anomaly: 'categorical',
    });
    assert.equal(report.status, 'measured');
    assert.equal(report.driftedFeatures, 2);
    assert.equal(report.share, 0.5);
    assert.equal(report.drifted, true);
    close(measured(report.features.humidity!).score, 0.590224526868426, 'humidity');
    close(measured(report.features.anomaly!).score, 0, 'anomaly');
  });

  it("evaluates the Kolmogorov distribution as SciPy's kstwo.sf across its algorithms (K)", () => {
    const expected: [number, number, number][] = [
      [12, 0.3, 0.187357090929418],
      [20, 0.2436666666666667, 0.15696324044209542],
      [141, 0.1, 0.11128445516467933],
      [1000, 0.04, 0.07933956059000224],
      [100001, 0.004, 0.08129888811128061],
      [400000, 0.0026586680735012757, 0.006988818604238354],
    ];
    for (const [n, x, p] of expected) close(kolmogorovSf(n, x), p, `kstwo.sf(${x}, ${n})`);
  });
});

describe('options', () => {
  const ref = between(0, 1500);
  const cur = between(3000, 5041);

  it('lets one feature use another test and threshold while the rest keep the defaults', () => {
    const report = datasetDrift(
      { humidity: num(ref, 'humidity'), mote: motes(ref) },
      { humidity: num(cur, 'humidity'), mote: motes(cur) },
      { humidity: 'numeric', mote: 'categorical' },
      { features: { mote: { test: 'psi', threshold: 0.03 } } },
    );
    const mote = measured(report.features.mote!);
    assert.equal(mote.test, 'psi');
    assert.equal(mote.threshold, 0.03);
    assert.equal(mote.drifted, true);
    assert.equal(measured(report.features.humidity!).test, 'wasserstein');
    assert.equal(report.share, 1);
  });

  it('raises the dataset share needed to call drift when asked', () => {
    const report = datasetDrift(
      { humidity: num(ref, 'humidity'), mote: motes(ref) },
      { humidity: num(cur, 'humidity'), mote: motes(cur) },
      { humidity: 'numeric', mote: 'categorical' },
      { driftShare: 0.75 },
    );
    assert.equal(report.share, 0.5);
    assert.equal(report.drifted, false);
  });

  it('measures prediction drift with the same tests, on probabilities and on classes', () => {
    const score = (rows: Reading[]) => Float64Array.from(rows, (s) => 1 / (1 + Math.exp(-(s.temperature - 27.5))));
    const p = measured(predictionDrift(score(ref), score(cur)));
    assert.equal(p.feature, 'prediction');
    assert.equal(p.test, 'wasserstein');
    assert.equal(p.drifted, true);
    const c = measured(predictionDrift(anomalies(ref), anomalies(cur), { column: 'predicted_class' }));
    assert.equal(c.feature, 'predicted_class');
    assert.equal(c.test, 'jensenshannon');
  });
});

describe('bad input', () => {
  const ref = num(between(1000, 1250), 'humidity');
  const cur = num(between(1250, 1258), 'humidity');

  it('drops NaN and ±Infinity as Evidently does, and gets the same answer', () => {
    const dirty = Float64Array.from([NaN, ...cur, Infinity, -Infinity]);
    const dirtyRef = Float64Array.from([...ref, NaN]);
    const r = measured(featureDrift(dirtyRef, dirty));
    close(r.score, 4.731134833059199e-7, 'p');
    assert.equal(r.currentRows, cur.length);
    assert.equal(r.referenceRows, ref.length);
  });

  it('ignores null categories and counts the rest', () => {
    const r = measured(featureDrift(motes(between(4000, 4250)), [null, ...motes(between(4380, 4430)), undefined]));
    close(r.pValue, 0.27414633032726965, 'p');
  });

  it('names the feature when every value in the window is missing', () => {
    assert.throws(
      () => featureDrift(ref, new Float64Array([NaN, Infinity]), { feature: 'humidity' }),
      (e: unknown) =>
        e instanceof DriftInputError &&
        e.feature === 'humidity' &&
        /all 2 values in the current window are missing/.test(e.message),
    );
  });

  it('names the feature when the window or the reference is empty', () => {
    assert.throws(
      () => featureDrift(ref, new Float64Array(0), { feature: 'humidity' }),
      /'humidity': the current window has no rows/,
    );
    assert.throws(() => featureDrift([], ['a'], { feature: 'mote' }), /'mote': the reference has no rows/);
  });

  it('refuses a numeric reference against a categorical window, and strings where numbers are declared', () => {
    assert.throws(
      () => featureDrift(ref, ['1', '2'], { feature: 'humidity' }),
      /'humidity': the reference is numeric but the current window is not/,
    );
    assert.throws(
      () => datasetDrift({ humidity: ref }, { humidity: ['47.1'] }, { humidity: 'numeric' }),
      /'humidity': is numeric but the current window holds an array; pass numeric columns as a Float64Array/,
    );
    assert.throws(
      () => featureDrift(['a', 'b'], ['a', 3 as unknown as string], { feature: 'mote' }),
      /'mote': row 1 of the current window is the number 3, not a category string/,
    );
  });

  it('names a feature missing from the window and lists the columns it has', () => {
    assert.throws(
      () =>
        datasetDrift({ humidity: ref, mote: ['1'] }, { humidity: cur }, { humidity: 'numeric', mote: 'categorical' }),
      (e: unknown) =>
        e instanceof DriftInputError &&
        e.feature === 'mote' &&
        /missing from the current window \(its columns: humidity\)/.test(e.message),
    );
  });

  it('refuses a test for the other kind of feature, an unknown test, a bad threshold and options for no feature', () => {
    assert.throws(
      () => featureDrift(['a'], ['b'], { feature: 'mote', test: 'ks' }),
      /test 'ks' is for numeric features/,
    );
    assert.throws(() => featureDrift(ref, cur, { test: 'anderson' as never }), /unknown test 'anderson'/);
    assert.throws(() => featureDrift(ref, cur, { threshold: NaN }), /threshold NaN is not a finite/);
    assert.throws(
      () => datasetDrift({ humidity: ref }, { humidity: cur }, { humidity: 'numeric' }, { features: { humdity: {} } }),
      /'humdity': has options but is not in the schema/,
    );
  });

  it('reports a dataset whose every feature lacks rows as insufficient data, not drifted', () => {
    const report = datasetDrift({ humidity: ref }, { humidity: cur.subarray(0, 5) }, { humidity: 'numeric' });
    assert.equal(report.status, 'insufficientData');
    assert.equal(report.drifted, false);
    assert.equal(report.features.humidity!.status, 'insufficientData');
  });

  it('gives chi-square p = 0 when the window has a category the reference never saw', () => {
    const r = measured(featureDrift(['a', 'b', 'a', 'b'], ['a', 'b', 'c', 'a'], { minRows: 1, test: 'chisquare' }));
    assert.equal(r.statistic, Infinity);
    assert.equal(r.pValue, 0);
    assert.equal(r.drifted, true);
  });
});

describe('radix sort', () => {
  it('orders negatives, zeros, subnormals and infinities as Float64Array.sort does', () => {
    const values = Float64Array.from([3, -0, 0, -1e-310, 1e-310, -Infinity, Infinity, -2.5, 2.5, 1e300, -1e300, 0.1]);
    const many = new Float64Array(5000);
    for (let i = 0; i < many.length; i++) many[i] = Math.sin(i * 12.9898) * 10 ** ((i % 40) - 20);
    for (const v of [values, many]) assert.deepEqual(sortFloat64(v), v.slice().sort());
  });
});
