import { Link } from 'wouter';
import type { ModelListItem } from '../../../api';
import { DataTable } from '../components/data-table';
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
            <DataTable
              rows={list}
              rowKey={(m) => m.name}
              columns={[
                { header: 'Model', cell: (m) => <Link href={`/models/${encodeURIComponent(m.name)}`}>{m.name}</Link> },
                { header: 'Latest version', cell: (m) => m.latestVersion ?? '—' },
                {
                  header: 'Aliases',
                  cell: (m) =>
                    Object.entries(m.aliases).map(([alias, version]) => (
                      <span key={alias} className="tag">
                        {alias} → {version}
                      </span>
                    )),
                },
              ]}
            />
          )
        }
      </Loaded>
    </section>
  );
}
