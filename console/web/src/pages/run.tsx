import { useState } from 'react';
import { Link } from 'wouter';
import type { CancelRunResponse, NodeDetail, RunDetail } from '../../../api';
import { api } from '../api-client';
import { GraphView, type Box } from '../components/graph-view';
import { StepPanel } from '../components/step-panel';
import { ErrorNote, Loaded } from '../components/status';
import { duration, nodeTone, runTone, time } from '../format';
import { useHasRole } from '../session';
import { useRun } from '../use-run';

/** The second line of a node's box: its state, and how far a map or a running step has got. */
function stateLine(node: NodeDetail): string {
  if (node.mapped) return `${node.state} · ${node.mapped.done} of ${node.mapped.total} done`;
  if (node.state === 'running' && node.attempts > 1) return `running · attempt ${node.attempts}`;
  if (node.cachedFrom) return `${node.state} · cached`;
  return node.state;
}

function boxes(detail: RunDetail): Box[] {
  return detail.graph.nodes.map((n) => {
    const node = detail.nodes[n.id];
    return {
      id: n.id,
      title: n.label,
      // A gate's step is its own name, already in the label; a map's is its first inner step.
      lines: [node ? stateLine(node) : 'pending', ...(n.kind === 'approval' ? [] : [n.step])],
      tone: nodeTone[node?.state ?? 'pending'],
      state: node?.state ?? 'pending',
    };
  });
}

/** A run: its DAG coloured by state and updated live, the selected step's details, cancel. */
export function RunPage({ runId }: { runId: string }) {
  const run = useRun(runId);
  const [selected, setSelected] = useState<string>();
  return (
    <section>
      <p className="crumbs">
        <Link href="/runs">Runs</Link> / {runId}
      </p>
      <Loaded {...run}>
        {(detail) => <RunView detail={detail} selected={selected} onSelect={setSelected} reload={run.reload} />}
      </Loaded>
    </section>
  );
}

function RunView({
  detail,
  selected,
  onSelect,
  reload,
}: {
  detail: RunDetail;
  selected: string | undefined;
  onSelect: (id: string) => void;
  reload: () => void;
}) {
  const { run } = detail;
  const operator = useHasRole('operator');
  const [error, setError] = useState<Error>();
  // Nothing picked yet: the node that most needs a look (failed, waiting, running).
  const focus =
    selected ??
    (['failed', 'waiting', 'running'] as const)
      .map((state) => detail.graph.nodes.find((n) => detail.nodes[n.id]?.state === state))
      .find(Boolean)?.id ??
    detail.graph.nodes[0]?.id;
  const cancel = async () => {
    setError(undefined);
    try {
      await api.post<CancelRunResponse>(`/runs/${encodeURIComponent(run.runId)}/cancel`);
      reload();
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <>
      <div className="run-head">
        <h1>
          {run.pipeline}{' '}
          <span className="pill" style={{ background: runTone[run.state] }} data-testid="run-state">
            {run.state}
          </span>
        </h1>
        <div className="facts">
          <span>started {time(run.startedAt)}</span>
          <span>{duration(run.durationMs)}</span>
          {run.startedBy && <span>by {run.startedBy}</span>}
          <span title={run.planHash}>plan {run.planHash.slice(0, 12)}</span>
          <a href={detail.temporalUrl} target="_blank" rel="noreferrer">
            Temporal Web UI ↗
          </a>
          <Link href={`/lineage/${encodeURIComponent(`run:${run.runId}`)}`}>Lineage</Link>
          {operator && run.state === 'running' && (
            <button type="button" className="danger" onClick={cancel}>
              Cancel run
            </button>
          )}
        </div>
        {run.error && (
          <div className="note error">
            <strong>{run.error.type}</strong>
            {run.error.node ? ` at ${run.error.node}` : ''}: {run.error.message}
          </div>
        )}
        {error && <ErrorNote error={error} />}
      </div>
      <div className="run-body">
        <GraphView nodes={boxes(detail)} edges={detail.graph.edges} selected={focus} onSelect={onSelect} />
        {focus && detail.graph.nodes.find((n) => n.id === focus) && (
          <StepPanel node={detail.graph.nodes.find((n) => n.id === focus)!} detail={detail.nodes[focus]} />
        )}
      </div>
    </>
  );
}
