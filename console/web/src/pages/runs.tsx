import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import type { PipelineInfo, RunsPage as Page } from '../../../api';
import { runStates } from '../../../../dsl/states';
import { query } from '../api-client';
import { StartRun } from '../components/start-run';
import { usePages } from '../components/pager';
import { DataTable } from '../components/data-table';
import { Empty, Loaded } from '../components/status';
import { duration, runTone, time } from '../format';
import { useHasRole } from '../session';
import { useApi } from '../use-api';
import { startedRun } from '../use-run';

const PAGE_SIZE = 25;

/** Runs, newest first: filter by pipeline and state, page with the server's cursor, start one. */
export function RunsPage() {
  const [pipeline, setPipeline] = useState('');
  const [state, setState] = useState('');
  const { before, reset, pager } = usePages();
  const runs = useApi<Page>(`/runs${query({ pipeline, state, limit: PAGE_SIZE, before })}`, { every: 3000 });
  const pipelines = useApi<PipelineInfo[]>('/pipelines');
  const operator = useHasRole('operator');
  const [, navigate] = useLocation();
  // Runs of pipelines the console cannot start (started from the CLI) can be filtered too.
  const pipelineNames = [
    ...new Set([
      ...(pipelines.data ?? []).map((p) => p.name),
      ...(runs.data?.runs ?? []).map((r) => r.pipeline),
      pipeline,
    ]),
  ]
    .filter(Boolean)
    .sort();

  const filter = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    reset();
  };

  return (
    <section>
      <h1>Runs</h1>
      {operator && pipelines.data && (
        <StartRun
          pipelines={pipelines.data}
          onStarted={(runId) => {
            startedRun(runId);
            navigate(`/runs/${encodeURIComponent(runId)}`);
          }}
        />
      )}
      <div className="filters">
        <label>
          Pipeline
          <select value={pipeline} onChange={filter(setPipeline)} name="pipeline">
            <option value="">all</option>
            {pipelineNames.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          State
          <select value={state} onChange={filter(setState)} name="state">
            <option value="">all</option>
            {runStates.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      <Loaded {...runs}>
        {(page) =>
          page.runs.length === 0 ? (
            <Empty>No runs{pipeline || state ? ' match these filters' : ' yet'}.</Empty>
          ) : (
            <>
              <DataTable
                className="runs"
                rows={page.runs}
                rowKey={(r) => r.runId}
                rowProps={(r) => ({ 'data-run': r.runId })}
                columns={[
                  { header: 'Run', cell: (r) => <Link href={`/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</Link> },
                  { header: 'Pipeline', cell: (r) => r.pipeline },
                  {
                    header: 'State',
                    cell: (r) => (
                      <span className="pill" style={{ background: runTone[r.state] }}>
                        {r.state}
                      </span>
                    ),
                  },
                  { header: 'Started', cell: (r) => time(r.startedAt) },
                  { header: 'Duration', cell: (r) => duration(r.durationMs) },
                  {
                    header: 'Started by',
                    cell: (r) => r.startedBy ?? (r.scheduleId ? `schedule ${r.scheduleId}` : ''),
                  },
                ]}
              />
              {pager(page.next)}
            </>
          )
        }
      </Loaded>
    </section>
  );
}
