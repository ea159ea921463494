import { Link } from 'wouter';
import type { GraphNode, NodeDetail } from '../../../api';
import { duration, nodeTone, short, time } from '../format';
import { ShownValues } from './shown-values';

function Json({ label, data }: { label: string; data: unknown }) {
  if (data === undefined || data === null) return null;
  return (
    <details open={label === 'Progress'}>
      <summary>{label}</summary>
      <pre>{JSON.stringify(data, null, 2)}</pre>
    </details>
  );
}

/** One node of a run: attempts, error, timings, progress, inputs and outputs, artifacts by hash. */
export function StepPanel({ node, detail }: { node: GraphNode; detail: NodeDetail | undefined }) {
  if (!detail)
    return (
      <aside className="step-panel">
        <h2>{node.label}</h2>
        <p className="muted">Not started.</p>
      </aside>
    );
  const took =
    detail.startedAt && detail.finishedAt ? Date.parse(detail.finishedAt) - Date.parse(detail.startedAt) : undefined;
  return (
    <aside className="step-panel" data-step={node.id}>
      <h2>
        {node.label}{' '}
        <span className="pill" style={{ background: nodeTone[detail.state] }}>
          {detail.state}
        </span>
      </h2>
      <dl>
        <dt>Step</dt>
        <dd>
          <code>{node.step}</code> ({node.kind})
        </dd>
        <dt>Attempts</dt>
        <dd>{detail.attempts}</dd>
        <dt>Started</dt>
        <dd>{time(detail.startedAt) || '—'}</dd>
        <dt>Finished</dt>
        <dd>
          {time(detail.finishedAt) || '—'}
          {took !== undefined && ` (${duration(took)})`}
        </dd>
        {detail.mapped && (
          <>
            <dt>Items</dt>
            <dd>
              {detail.mapped.done} of {detail.mapped.total} done
            </dd>
          </>
        )}
        {detail.cachedFrom && (
          <>
            <dt>Cached from</dt>
            <dd>
              <Link href={`/runs/${encodeURIComponent(detail.cachedFrom.runId)}`}>{detail.cachedFrom.runId}</Link> ·{' '}
              {detail.cachedFrom.node}
            </dd>
          </>
        )}
      </dl>
      {detail.error && (
        <div className="note error">
          <strong>{detail.error.type}</strong>: {detail.error.message}
        </div>
      )}
      {detail.gate && (
        <div className="gate">
          <h3>Approval</h3>
          <ShownValues values={detail.gate.show} />
          {detail.gate.decision ? (
            <p>
              {detail.gate.decision.approved ? 'Approved' : 'Rejected'} by {detail.gate.decision.by}
              {detail.gate.decision.comment ? `: “${detail.gate.decision.comment}”` : ''}
            </p>
          ) : (
            detail.state === 'waiting' && (
              <p>
                Waiting since {time(detail.gate.waitingSince)}: decide in <Link href="/approvals">Approvals</Link>.
              </p>
            )
          )}
        </div>
      )}
      {detail.artifacts.length > 0 && (
        <>
          <h3>Artifacts</h3>
          <ul className="artifacts">
            {detail.artifacts.map((a) => (
              <li key={a.id}>
                {a.kind}{' '}
                <Link href={`/lineage/${a.sha256}`} title={a.sha256}>
                  <code>{short(a.sha256)}</code>
                </Link>
              </li>
            ))}
          </ul>
        </>
      )}
      <Json label="Progress" data={detail.progress} />
      <Json label="Inputs" data={detail.inputs} />
      <Json label="Outputs" data={detail.outputs} />
    </aside>
  );
}
