import { isAbsent } from '../common/dataset/cells';
import { MetricInputError } from '../common/metrics/input-check';
import type { Cell, MetricSpec, SliceReport, SliceResult, SliceSpec } from './robustness-report';

// The slices of a robustness report: the clean scores' metrics on each value (or quantile bin) of
// a column, and the worst slice.

const MISSING_SLICE = '(missing)';

// Quantile edges with numpy's default linear interpolation.
function quantileEdges(sorted: Float64Array, bins: number): number[] {
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) {
    const position = (sorted.length - 1) * (i / bins);
    const lo = Math.floor(position);
    const hi = Math.min(lo + 1, sorted.length - 1);
    edges.push(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo));
  }
  return [...new Set(edges)];
}

// Each row's slice name, and the slices in report order: sorted values or ascending bins, missing last.
interface Slicing {
  names: string[];
  order: string[];
  ranges: Map<string, [number, number]>;
}

const edgeLabel = (x: number) => String(Number(x.toPrecision(6)));

function sliceNames(spec: SliceSpec, values: ReadonlyArray<Cell>): Slicing {
  const ranges = new Map<string, [number, number]>();
  const withMissingLast = (names: string[], order: string[]) => ({
    names,
    ranges,
    order: names.includes(MISSING_SLICE) ? [...order, MISSING_SLICE] : order,
  });
  if (spec.kind === 'categorical') {
    const names = values.map((v) => (isAbsent(v) ? MISSING_SLICE : String(v)));
    const present = [...new Set(names)].filter((n) => n !== MISSING_SLICE).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return withMissingLast(names, present);
  }
  if (!Number.isInteger(spec.bins) || spec.bins < 1) {
    throw new MetricInputError(
      'robustness',
      `slice on '${spec.column}' declares ${spec.bins} bins; declare a positive whole number`,
    );
  }
  const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const strays = values.find((v) => !isAbsent(v) && (typeof v !== 'number' || !Number.isFinite(v)));
  if (strays !== undefined) {
    throw new MetricInputError(
      'robustness',
      `quantile slice on '${spec.column}' met the value ${JSON.stringify(strays)}; slice a non-numeric column with kind 'categorical'`,
    );
  }
  if (numbers.length === 0)
    return withMissingLast(
      values.map(() => MISSING_SLICE),
      [],
    );
  // A typed array sorts natively, several times faster than numbers under a comparator.
  const edges = quantileEdges(Float64Array.from(numbers).sort(), spec.bins);
  const last = Math.max(edges.length - 2, 0);
  const labels = edges.slice(0, last + 1).map((lo, b) => {
    const hi = edges[b + 1] ?? lo;
    const label = `[${edgeLabel(lo)}, ${edgeLabel(hi)}${b === last ? ']' : ')'}`;
    ranges.set(label, [lo, hi]);
    return label;
  });
  const names = values.map((v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return MISSING_SLICE;
    let b = 0;
    while (b < last && edges[b + 1]! <= v) b++;
    return labels[b]!;
  });
  const used = new Set(names);
  return withMissingLast(
    names,
    labels.filter((l) => used.has(l)),
  );
}

/** The slices of one column's values (in row order) and the worst of them by `worstBy`. */
export function sliceReport(
  spec: SliceSpec,
  values: ReadonlyArray<Cell>,
  labels: number[],
  scores: number[],
  metrics: Readonly<Record<string, MetricSpec>>,
  worstBy: string,
  minSize: number,
): SliceReport {
  const { names, order, ranges } = sliceNames(spec, values);
  const members = new Map<string, number[]>();
  names.forEach((name, i) => {
    const list = members.get(name);
    if (list) list.push(i);
    else members.set(name, [i]);
  });
  const slices = order.map((slice): SliceResult => {
    const index = members.get(slice)!;
    const y = index.map((i) => labels[i]!);
    const s = index.map((i) => scores[i]!);
    const range = ranges.get(slice);
    const result: SliceResult = {
      column: spec.column,
      slice,
      ...(range && { range }),
      count: index.length,
      metrics: {},
    };
    for (const [name, metric] of Object.entries(metrics)) {
      try {
        result.metrics[name] = metric.fn(y, s);
      } catch (error) {
        // A metric undefined on one slice (one class, say) is recorded, not fatal to the report.
        result.metrics[name] = Number.NaN;
        (result.errors ??= {})[name] = error instanceof Error ? error.message : String(error);
      }
    }
    return result;
  });
  const direction = metrics[worstBy]!.higherIsBetter ? 1 : -1;
  let worst: SliceResult | null = null;
  for (const s of slices) {
    const v = s.metrics[worstBy]!;
    if (s.count < minSize || Number.isNaN(v)) continue;
    if (worst === null || direction * v < direction * worst.metrics[worstBy]!) worst = s;
  }
  return { column: spec.column, kind: spec.kind, slices, worst };
}
