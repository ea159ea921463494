import { Link } from 'wouter';
import type { ScheduleSummary } from '../../../api';
import { Empty, Loaded } from '../components/status';
import { time } from '../format';
import { useApi } from '../use-api';

/** Pipelines on Temporal Schedules: their cron, next runs and recent ones. */
export function SchedulesPage() {
  const schedules = useApi<ScheduleSummary[]>('/schedules');
  return (
    <section>
      <h1>Schedules</h1>
      <Loaded {...schedules}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No schedules: `kiln schedule` creates one.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Schedule</th>
                  <th>Pipeline</th>
                  <th>Cron</th>
                  <th>Next runs</th>
                  <th>Recent runs</th>
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.id}>
                    <td>
                      {s.id}
                      {s.paused && <span className="tag">paused</span>}
                      {s.note && <div className="muted">{s.note}</div>}
                    </td>
                    <td>{s.pipeline ?? '—'}</td>
                    <td>
                      <code>{s.cron.join(', ')}</code>
                    </td>
                    <td>{s.nextRuns.map((t) => time(t)).join(', ')}</td>
                    <td>
                      {s.recentRuns.map((r) => (
                        <div key={r.runId}>
                          <Link href={`/runs/${encodeURIComponent(r.runId)}`}>{time(r.at)}</Link>
                        </div>
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
