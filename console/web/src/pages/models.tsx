import { Link } from 'wouter';
import type { ModelListItem } from '../../../api';
import { Empty, Loaded } from '../components/status';
import { useApi } from '../use-api';

/** The registry's models, their newest versions and aliases. */
export function ModelsPage() {
  const models = useApi<ModelListItem[]>('/models');
  return (
    <section>
      <h1>Models</h1>
      <Loaded {...models}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No model is registered yet: a pipeline&apos;s registerModel step adds one.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Latest version</th>
                  <th>Aliases</th>
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <tr key={m.name}>
                    <td>
                      <Link href={`/models/${encodeURIComponent(m.name)}`}>{m.name}</Link>
                    </td>
                    <td>{m.latestVersion ?? '—'}</td>
                    <td>
                      {Object.entries(m.aliases).map(([alias, version]) => (
                        <span key={alias} className="tag">
                          {alias} → {version}
                        </span>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}
