import { Link } from 'wouter';
import type { MonitorReports } from '../../../api';
import { Chart, timeSeries } from '../components/chart';
import { DataTable } from '../components/data-table';
import { Empty, Loaded } from '../components/status';
import { time } from '../format';
import { useApi } from '../use-api';

/** A monitor's last day: drift per feature over its windows, latency, and the alerts it raised. */
export function MonitorPage({ name }: { name: string }) {
  const reports = useApi<MonitorReports>(`/monitors/${encodeURIComponent(name)}/reports?last=24h`, { every: 10_000 });
  return (
    <section>
      <p className="crumbs">
        <Link href="/deployments">Deployments</Link> / monitor {name}
      </p>
      <h1>Monitor {name}</h1>
      <Loaded {...reports}>
        {(r) => {
          const features = [...new Set(r.windows.flatMap((w) => Object.keys(w.drift)))].sort();
          return (
            <>
              {r.windows.length === 0 ? (
                <Empty>No window measured in the last 24 hours.</Empty>
              ) : (
                <div className="charts">
                  <Chart
                    name="drift"
                    height={340}
                    option={timeSeries(
                      'Drift per feature',
                      features.map((f) => ({
                        type: 'line',
                        name: f,
                        data: r.windows.map((w) => [w.end, w.drift[f] ?? null]),
                      })),
                      {
                        legend: { bottom: 0, type: 'scroll' },
                        grid: { left: 48, right: 16, top: 36, bottom: 56 },
                      },
                    )}
                  />
                  <Chart
                    name="monitor-latency"
                    option={timeSeries('Latency (ms)', [
                      { type: 'line', name: 'p50', data: r.windows.map((w) => [w.end, w.latencyP50Ms]) },
                      { type: 'line', name: 'p99', data: r.windows.map((w) => [w.end, w.latencyP99Ms]) },
                    ])}
                  />
                </div>
              )}
              <h2>Alerts</h2>
              {r.alerts.length === 0 ? (
                <Empty>No alerts.</Empty>
              ) : (
                <DataTable
                  rows={r.alerts}
                  rowKey={(_, i) => i}
                  columns={[
                    { header: 'At', cell: (a) => time(a.at) },
                    { header: 'Kind', cell: (a) => a.kind },
                    { header: 'Outcome', cell: (a) => a.outcome },
                    { header: 'Detail', cell: (a) => a.detail },
                  ]}
                />
              )}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
