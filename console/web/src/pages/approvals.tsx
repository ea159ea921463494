import { useState } from 'react';
import { Link } from 'wouter';
import type { DecisionRequest, DecisionResponse, PendingApproval } from '../../../api';
import { api } from '../api-client';
import { ShownValues } from '../components/shown-values';
import { Empty, ErrorNote, Loaded } from '../components/status';
import { time } from '../format';
import { useHasRole } from '../session';
import { useApi } from '../use-api';

/** Gates waiting for a decision, each with what its pipeline asked to show. */
export function ApprovalsPage() {
  const approvals = useApi<PendingApproval[]>('/approvals', { every: 3000 });
  // A decided gate leaves the inbox at once; what was decided stays said here.
  const [decided, setDecided] = useState<DecisionResponse[]>([]);
  return (
    <section>
      <h1>Approvals</h1>
      {decided.map((d) => (
        <p key={`${d.runId}/${d.gate}`} className="note ok" data-decided={`${d.runId}/${d.gate}`}>
          {d.approved ? 'Approved' : 'Rejected'} by {d.by}: gate <code>{d.gate}</code> of run{' '}
          <Link href={`/runs/${encodeURIComponent(d.runId)}`}>{d.runId}</Link>.
        </p>
      ))}
      <Loaded {...approvals}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No gate is waiting for a decision.</Empty>
          ) : (
            list.map((a) => (
              <Gate
                key={`${a.runId}/${a.gate}`}
                approval={a}
                onDecided={(d) => {
                  setDecided((all) => [d, ...all]);
                  approvals.reload();
                }}
              />
            ))
          )
        }
      </Loaded>
    </section>
  );
}

function Gate({ approval, onDecided }: { approval: PendingApproval; onDecided: (d: DecisionResponse) => void }) {
  const approver = useHasRole('approver');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<Error>();
  const decide = async (decision: DecisionRequest['decision']) => {
    setError(undefined);
    try {
      const body: DecisionRequest = { decision, ...(comment ? { comment } : {}) };
      onDecided(
        await api.post<DecisionResponse>(
          `/approvals/${encodeURIComponent(approval.runId)}/${encodeURIComponent(approval.gate)}`,
          body,
        ),
      );
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <article className="card gate" data-gate={`${approval.runId}/${approval.gate}`}>
      <h2>
        {approval.pipeline} · gate <code>{approval.gate}</code>
      </h2>
      <p className="muted">
        Run <Link href={`/runs/${encodeURIComponent(approval.runId)}`}>{approval.runId}</Link>, waiting since{' '}
        {time(approval.waitingSince)}
      </p>
      <ShownValues values={approval.shown} />
      <div className="decide">
        <input
          name="comment"
          placeholder="Comment (kept in the audit trail)"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
        />
        <button type="button" onClick={() => decide('approve')}>
          Approve
        </button>
        <button type="button" className="danger" onClick={() => decide('reject')}>
          Reject
        </button>
        {!approver && <span className="muted">Deciding needs the approver role; the server will refuse.</span>}
      </div>
      {error && <ErrorNote error={error} />}
    </article>
  );
}
