import { Link } from 'wouter';
import type { DeploymentDetail, DeploymentSummary, MonitorSummary } from '../../../api';
import { Chart, timeSeries } from '../components/chart';
import { DataTable } from '../components/data-table';
import { Empty, Loaded } from '../components/status';
import { time } from '../format';
import { useApi } from '../use-api';

function Split({ d }: { d: DeploymentSummary }) {
  if (!d.split) return <>all traffic to v{d.version ?? '—'}</>;
  return (
    <>
      {d.split.mode} · v{d.split.candidateVersion} gets {d.split.percent}%
    </>
  );
}

/** What serves which version, each rollout's state, and the monitors watching them. */
export function DeploymentsPage() {
  const deployments = useApi<DeploymentSummary[]>('/deployments', { every: 5000 });
  const monitors = useApi<MonitorSummary[]>('/monitors', { every: 5000 });
  return (
    <section>
      <h1>Deployments</h1>
      <Loaded {...deployments}>
        {(list) =>
          list.length === 0 ? (
            <Empty>
              Nothing is deployed yet: a pipeline&apos;s deploy step, or moving an alias, makes a deployment.
            </Empty>
          ) : (
            <DataTable
              rows={list}
              rowKey={(d) => d.name}
              columns={[
                {
                  header: 'Deployment',
                  cell: (d) => <Link href={`/deployments/${encodeURIComponent(d.name)}`}>{d.name}</Link>,
                },
                { header: 'Serving', cell: (d) => <>v{d.version ?? '—'}</> },
                { header: 'Traffic', cell: (d) => <Split d={d} /> },
                { header: 'Rollout', cell: (d) => (d.rollout ? `${d.rollout.state} (${time(d.rollout.at)})` : '—') },
              ]}
            />
          )
        }
      </Loaded>
      <h2>Monitors</h2>
      <Loaded {...monitors}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No monitor is watching a deployment.</Empty>
          ) : (
            <DataTable
              rows={list}
              rowKey={(m) => m.name}
              columns={[
                {
                  header: 'Monitor',
                  cell: (m) => <Link href={`/monitors/${encodeURIComponent(m.name)}`}>{m.name}</Link>,
                },
                {
                  header: 'Watches',
                  cell: (m) => (
                    <>
                      {m.model}@{m.alias}
                    </>
                  ),
                },
                { header: 'Every', cell: (m) => m.every ?? '—' },
                { header: 'Last window', cell: (m) => time(m.lastWindowEnd) || '—' },
                {
                  header: 'Drift',
                  cell: (m) => (m.lastDrifted === null ? '—' : m.lastDrifted ? 'drifted' : 'none'),
                },
              ]}
            />
          )
        }
      </Loaded>
    </section>
  );
}

/** One deployment: traffic, rollout history, requests, errors and latency per minute. */
export function DeploymentPage({ name }: { name: string }) {
  const deployment = useApi<DeploymentDetail>(`/deployments/${encodeURIComponent(name)}`, { every: 5000 });
  return (
    <section>
      <p className="crumbs">
        <Link href="/deployments">Deployments</Link> / {name}
      </p>
      <Loaded {...deployment}>
        {(d) => (
          <>
            <h1>{d.name}</h1>
            <p>
              Serving v{d.version ?? '—'}; <Split d={d} />
              {d.rollout && `; rollout ${d.rollout.state}`}
            </p>
            {d.series.length === 0 ? (
              <Empty>No predictions logged in the last hour.</Empty>
            ) : (
              <div className="charts">
                <Chart
                  name="latency"
                  option={timeSeries('Latency (ms)', [
                    { type: 'line', name: 'p50', data: d.series.map((s) => [s.at, s.p50Ms]) },
                    { type: 'line', name: 'p99', data: d.series.map((s) => [s.at, s.p99Ms]) },
                  ])}
                />
                <Chart
                  name="requests"
                  option={timeSeries('Requests and errors per minute', [
                    { type: 'bar', name: 'requests', data: d.series.map((s) => [s.at, s.requests]) },
                    {
                      type: 'bar',
                      name: 'errors',
                      data: d.series.map((s) => [s.at, s.errors]),
                      itemStyle: { color: '#eb5757' },
                    },
                  ])}
                />
              </div>
            )}
            <h2>History</h2>
            {d.history.length === 0 ? (
              <Empty>No rollout recorded.</Empty>
            ) : (
              <DataTable
                rows={d.history}
                rowKey={(_, i) => i}
                columns={[
                  { header: 'At', cell: (h) => time(h.at) },
                  { header: 'State', cell: (h) => h.state },
                  { header: 'Version', cell: (h) => h.version ?? '—' },
                  { header: 'By', cell: (h) => h.by },
                ]}
              />
            )}
          </>
        )}
      </Loaded>
    </section>
  );
}
