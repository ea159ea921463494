import type { ColumnarDataset, ColumnValues } from '../common/dataset/dataset';
import { MetricInputError, type Numbers } from '../common/metrics/input-check';
import { cellAt } from '../common/model/scored-rows';
import { robustnessOf, type RobustnessOptions, type RobustnessReport, type RobustnessTable } from './robustness-report';

// A robustness report over columns: no object per row, and a perturbed copy holds only the
// columns it changes (the others are shared with the clean data).

export interface RobustnessColumnsInput extends Omit<RobustnessOptions, 'missing'> {
  data: ColumnarDataset;
  /** Scores every row of the columns given: P(class 1) for a binary model, the prediction for a regression one. */
  predict: (data: ColumnarDataset) => Promise<Numbers> | Numbers;
  /** Every column of the dataset, listed when one asked for is absent; the columns of `data` unless declared. */
  columnNames?: readonly string[];
  /** Sets `fraction` (0.1 unless declared) of the cells of `columns` (numeric and categorical unless declared) missing. */
  missing?: { fraction?: number; columns?: readonly string[] };
}

const copyColumn = (column: ColumnValues): ColumnValues =>
  column instanceof Float64Array ? Float64Array.from(column) : [...column];

function columnTable(data: ColumnarDataset, columnNames: readonly string[]): RobustnessTable<ColumnarDataset> {
  const n = data.rows;
  const get = (name: string) => data.values.get(name)!;
  const copies = (columns: readonly string[]) => columns.map((name) => copyColumn(get(name)));
  const replacing = (columns: readonly string[], values: ColumnValues[]): ColumnarDataset => ({
    ...data,
    values: new Map([...data.values, ...columns.map((name, j) => [name, values[j]!] as const)]),
  });
  return {
    rows: n,
    vectors: false,
    check(columns, what) {
      for (const column of columns) {
        if (!data.values.has(column)) {
          throw new MetricInputError(
            'robustness',
            `${what} column '${column}' is not in the rows, which have ${columnNames.join(', ')}`,
          );
        }
      }
    },
    clean: () => data,
    noisy(columns, draw, scale, std) {
      const noisy = copies(columns);
      const spread = columns.map((name) => std[name]!);
      // Row by row, so each cell gets the draw it gets from rows; the product in the rows' order, to the bit.
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < columns.length; j++) {
          const z = draw();
          const column = noisy[j]!;
          const v = column[i];
          if (typeof v === 'number' && Number.isFinite(v)) column[i] = v + z * scale * spread[j]!;
        }
      }
      return replacing(columns, noisy);
    },
    holed(cells, columns, value) {
      const holed = copies(columns);
      for (const cell of cells) {
        const column = holed[cell % columns.length]!;
        const row = Math.floor(cell / columns.length);
        // A missing number is NaN in a number column, as the columns read it.
        if (column instanceof Float64Array) column[row] = value ?? Number.NaN;
        else column[row] = value;
      }
      return replacing(columns, holed);
    },
    column: (name) => Array.from({ length: n }, (_, i) => cellAt(get(name), i)),
  };
}

/** As `robustness`, over columns: the same report, to the bit, as over the rows of the same cells. */
export function robustnessColumns(input: RobustnessColumnsInput): Promise<RobustnessReport> {
  const names = input.columnNames ?? input.data.columns.map((c) => c.name);
  return robustnessOf(columnTable(input.data, names), input.predict, input);
}
