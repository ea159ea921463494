import type { ModelVersionDetail } from '../../../api';
import { Chart, type ChartOption } from './chart';
import { Empty } from './status';

const axis = (name: string) => ({ type: 'value', name, nameLocation: 'middle', nameGap: 28, min: 0, max: 1 });
const diagonal = {
  type: 'line',
  data: [
    [0, 0],
    [1, 1],
  ],
  symbol: 'none',
  lineStyle: { type: 'dashed', color: '#bbb' },
  silent: true,
};
const grid = { left: 48, right: 16, top: 36, bottom: 44 };

function curve(title: string, x: string, y: string, points: number[][], withDiagonal: boolean): ChartOption {
  return {
    title: { text: title, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis' },
    grid,
    xAxis: axis(x),
    yAxis: axis(y),
    series: [
      {
        type: 'line',
        data: points,
        symbol: 'none',
        lineStyle: { width: 2 },
        areaStyle: withDiagonal ? undefined : { opacity: 0.08 },
      },
      ...(withDiagonal ? [diagonal] : []),
    ],
  };
}

/** ROC and precision-recall curves, and the reliability curve, of one version's evaluation. */
export function Curves({ curves }: { curves: ModelVersionDetail['curves'] }) {
  if (curves.roc.length === 0 && curves.pr.length === 0 && curves.calibration.length === 0)
    return <Empty>This version has no evaluation report with curves.</Empty>;
  // Fragments: the caller's grid lays these out beside the confusion matrix.
  const of = curves.class ? ` (class ${curves.class})` : '';
  return (
    <>
      {curves.roc.length > 0 && (
        <Chart
          name="roc"
          option={curve(
            `ROC${of}`,
            'false positive rate',
            'true positive rate',
            curves.roc.map((p) => [p.fpr, p.tpr]),
            true,
          )}
        />
      )}
      {curves.pr.length > 0 && (
        <Chart
          name="pr"
          option={curve(
            `Precision-recall${of}`,
            'recall',
            'precision',
            curves.pr.map((p) => [p.recall, p.precision]),
            false,
          )}
        />
      )}
      {curves.calibration.length > 0 && (
        <Chart
          name="calibration"
          option={{
            ...curve(
              'Calibration',
              'predicted probability',
              'observed frequency',
              curves.calibration.map((p) => [p.predicted, p.observed]),
              true,
            ),
            tooltip: {
              trigger: 'item',
              formatter: (p: { dataIndex: number }) => `${curves.calibration[p.dataIndex]?.count ?? 0} rows`,
            },
          }}
        />
      )}
    </>
  );
}

/** counts[true][predicted] as a heat map with the counts written in. */
export function Confusion({ confusion }: { confusion: NonNullable<ModelVersionDetail['confusion']> }) {
  const { classes, counts } = confusion;
  const cells = counts.flatMap((row, t) => row.map((n, p) => [p, t, n]));
  return (
    <Chart
      name="confusion"
      option={{
        title: { text: 'Confusion matrix', textStyle: { fontSize: 13 } },
        grid: { left: 72, right: 16, top: 36, bottom: 64 },
        xAxis: { type: 'category', data: classes, name: 'predicted', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'category', data: classes, name: 'true', nameLocation: 'middle', nameGap: 52, inverse: true },
        visualMap: {
          min: 0,
          max: Math.max(1, ...cells.map((c) => c[2]!)),
          show: false,
          inRange: { color: ['#f4f8fd', '#2f80ed'] },
        },
        series: [{ type: 'heatmap', data: cells, label: { show: true, fontSize: 14 } }],
      }}
    />
  );
}

/** Per group: selection, true and false positive rates; each gate: its value as a bar against its bar. */
export function Fairness({ fairness }: { fairness: NonNullable<ModelVersionDetail['fairness']> }) {
  const groups = fairness.groups.map((g) => g.group);
  return (
    <div className="charts">
      {fairness.groups.length > 0 && (
        <Chart
          name="fairness-groups"
          option={{
            title: { text: 'Rates by group', textStyle: { fontSize: 13 } },
            tooltip: { trigger: 'axis' },
            legend: { bottom: 0 },
            grid: { ...grid, bottom: 56 },
            xAxis: { type: 'category', data: groups },
            yAxis: { type: 'value', min: 0, max: 1 },
            series: [
              { type: 'bar', name: 'selection rate', data: fairness.groups.map((g) => g.selectionRate) },
              { type: 'bar', name: 'true positive rate', data: fairness.groups.map((g) => g.truePositiveRate) },
              { type: 'bar', name: 'false positive rate', data: fairness.groups.map((g) => g.falsePositiveRate) },
            ],
          }}
        />
      )}
      {fairness.gates.map((gate) => (
        <Chart
          key={gate.metric}
          name={`fairness-gate-${gate.metric}`}
          height={160}
          option={{
            title: { text: `${gate.metric} (${gate.bound} ${gate.threshold})`, textStyle: { fontSize: 13 } },
            grid: { left: 16, right: 48, top: 36, bottom: 28 },
            xAxis: { type: 'value', min: 0, max: Math.max(1, gate.value, gate.threshold) },
            yAxis: { type: 'category', data: [''] },
            series: [
              {
                type: 'bar',
                data: [gate.value],
                itemStyle: { color: gate.passes ? '#27ae60' : '#eb5757' },
                label: { show: true, position: 'insideRight', color: '#fff', formatter: gate.value.toFixed(3) },
                markLine: {
                  symbol: 'none',
                  lineStyle: { color: '#333', type: 'dashed', width: 2 },
                  label: { show: false },
                  data: [{ xAxis: gate.threshold }],
                },
              },
            ],
          }}
        />
      ))}
    </div>
  );
}

/** One line per version, one point per metric shared by all: metrics side by side. */
export function MetricsAcross({ versions }: { versions: Array<{ version: number; metrics: Record<string, number> }> }) {
  const names = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].filter((name) =>
    versions.every((v) => typeof v.metrics[name] === 'number' && v.metrics[name]! >= 0 && v.metrics[name]! <= 1),
  );
  if (versions.length < 2 || names.length === 0) return null;
  return (
    <Chart
      name="metrics-across"
      option={{
        title: { text: 'Metrics in [0, 1] by version', textStyle: { fontSize: 13 } },
        tooltip: { trigger: 'axis' },
        legend: { bottom: 0 },
        grid: { ...grid, bottom: 56 },
        xAxis: { type: 'category', data: names },
        yAxis: { type: 'value', min: 0, max: 1 },
        series: versions.map((v) => ({ type: 'bar', name: `v${v.version}`, data: names.map((n) => v.metrics[n]) })),
      }}
    />
  );
}
