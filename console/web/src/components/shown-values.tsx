import { value } from '../format';

/** What a gate asked to show its approver, one row per name. */
export function ShownValues({ values }: { values: Record<string, unknown> }) {
  return (
    <table className="kv">
      <tbody>
        {Object.entries(values).map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{value(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
