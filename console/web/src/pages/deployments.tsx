import { Link } from 'wouter';
import type { DeploymentDetail, DeploymentSummary, MonitorSummary } from '../../../api';
import { Chart } from '../components/chart';
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
            <table>
              <thead>
                <tr>
                  <th>Deployment</th>
                  <th>Serving</th>
                  <th>Traffic</th>
                  <th>Rollout</th>
                </tr>
              </thead>
              <tbody>
                {list.map((d) => (
                  <tr key={d.name}>
                    <td>
                      <Link href={`/deployments/${encodeURIComponent(d.name)}`}>{d.name}</Link>
                    </td>
                    <td>v{d.version ?? '—'}</td>
                    <td>
                      <Split d={d} />
                    </td>
                    <td>{d.rollout ? `${d.rollout.state} (${time(d.rollout.at)})` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      <h2>Monitors</h2>
      <Loaded {...monitors}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No monitor is watching a deployment.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Monitor</th>
                  <th>Watches</th>
                  <th>Every</th>
                  <th>Last window</th>
                  <th>Drift</th>
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <tr key={m.name}>
                    <td>
                      <Link href={`/monitors/${encodeURIComponent(m.name)}`}>{m.name}</Link>
                    </td>
                    <td>
                      {m.model}@{m.alias}
                    </td>
                    <td>{m.every ?? '—'}</td>
                    <td>{time(m.lastWindowEnd) || '—'}</td>
                    <td>{m.lastDrifted === null ? '—' : m.lastDrifted ? 'drifted' : 'none'}</td>
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
                  option={{
                    title: { text: 'Latency (ms)', textStyle: { fontSize: 13 } },
                    tooltip: { trigger: 'axis' },
                    legend: { bottom: 0 },
                    xAxis: { type: 'time' },
                    yAxis: { type: 'value' },
                    series: [
                      { type: 'line', name: 'p50', data: d.series.map((s) => [s.at, s.p50Ms]) },
                      { type: 'line', name: 'p99', data: d.series.map((s) => [s.at, s.p99Ms]) },
                    ],
                  }}
                />
                <Chart
                  name="requests"
                  option={{
                    title: { text: 'Requests and errors per minute', textStyle: { fontSize: 13 } },
                    tooltip: { trigger: 'axis' },
                    legend: { bottom: 0 },
                    xAxis: { type: 'time' },
                    yAxis: { type: 'value' },
                    series: [
                      { type: 'bar', name: 'requests', data: d.series.map((s) => [s.at, s.requests]) },
                      {
                        type: 'bar',
                        name: 'errors',
                        data: d.series.map((s) => [s.at, s.errors]),
                        itemStyle: { color: '#eb5757' },
                      },
                    ],
                  }}
                />
              </div>
            )}
            <h2>History</h2>
            {d.history.length === 0 ? (
              <Empty>No rollout recorded.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>At</th>
                    <th>State</th>
                    <th>Version</th>
                    <th>By</th>
                  </tr>
                </thead>
                <tbody>
                  {d.history.map((h, i) => (
                    <tr key={i}>
                      <td>{time(h.at)}</td>
                      <td>{h.state}</td>
                      <td>{h.version ?? '—'}</td>
                      <td>{h.by}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Loaded>
    </section>
  );
}
