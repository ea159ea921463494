import { Link } from 'wouter';
import type { ScheduleSummary } from '../../../api';
import { DataTable } from '../components/data-table';
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
            <DataTable
              rows={list}
              rowKey={(s) => s.id}
              columns={[
                {
                  header: 'Schedule',
                  cell: (s) => (
                    <>
                      {s.id}
                      {s.paused && <span className="tag">paused</span>}
                      {s.note && <div className="muted">{s.note}</div>}
                    </>
                  ),
                },
                { header: 'Pipeline', cell: (s) => s.pipeline ?? '—' },
                { header: 'Cron', cell: (s) => <code>{s.cron.join(', ')}</code> },
                { header: 'Next runs', cell: (s) => s.nextRuns.map((t) => time(t)).join(', ') },
                {
                  header: 'Recent runs',
                  cell: (s) =>
                    s.recentRuns.map((r) => (
                      <div key={r.runId}>
                        <Link href={`/runs/${encodeURIComponent(r.runId)}`}>{time(r.at)}</Link>
                      </div>
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
