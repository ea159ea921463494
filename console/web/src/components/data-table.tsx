import type { HTMLAttributes, Key, ReactNode, TdHTMLAttributes } from 'react';

/** One column of a DataTable: its heading and what each row shows in it. */
export interface Column<Row> {
  header: ReactNode;
  cell: (row: Row) => ReactNode;
  /** The cell's own attributes, when it needs a class or a title. */
  td?: (row: Row) => TdHTMLAttributes<HTMLTableCellElement>;
}

/** A table of one row per item, headed by its columns. */
export function DataTable<Row>({
  rows,
  columns,
  rowKey,
  className,
  rowProps,
}: {
  rows: readonly Row[];
  columns: readonly Column<Row>[];
  rowKey: (row: Row, index: number) => Key;
  className?: string;
  /** A row's own attributes (a data-* the tests find it by). */
  rowProps?: (row: Row) => HTMLAttributes<HTMLTableRowElement> & { [data: `data-${string}`]: string };
}) {
  return (
    <table className={className}>
      <thead>
        <tr>
          {columns.map((c, i) => (
            <th key={i}>{c.header}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr key={rowKey(row, i)} {...rowProps?.(row)}>
            {columns.map((c, j) => (
              <td key={j} {...c.td?.(row)}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
