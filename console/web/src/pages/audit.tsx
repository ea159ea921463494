import { useState } from 'react';
import type { AuditPage as Page, AuditVerifyResponse } from '../../../api';
import { query } from '../api-client';
import { usePages } from '../components/pager';
import { Empty, ErrorNote, Loaded } from '../components/status';
import { time } from '../format';
import { useApi } from '../use-api';

const PAGE_SIZE = 50;

/** The audit trail, newest first, filtered by actor and action, with the hash chain's check. */
export function AuditPage() {
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const { before, reset, pager } = usePages();
  const events = useApi<Page>(`/audit${query({ actor, action, limit: PAGE_SIZE, before })}`);
  const verify = useApi<AuditVerifyResponse>('/audit/verify');
  const filter = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    reset();
  };

  return (
    <section>
      <h1>Audit trail</h1>
      {verify.error ? (
        <ErrorNote error={verify.error} />
      ) : (
        verify.data && (
          <p className={`note ${verify.data.ok ? 'ok' : 'error'}`} data-testid="audit-verify">
            {verify.data.ok
              ? `Hash chain verified: ${verify.data.checked} events intact.`
              : `Hash chain broken at event ${verify.data.firstBad?.seq}: ${verify.data.firstBad?.reason} (${verify.data.checked} checked).`}
          </p>
        )
      )}
      <div className="filters">
        <label>
          Actor
          <input name="actor" value={actor} onChange={filter(setActor)} />
        </label>
        <label>
          Action
          <input name="action" value={action} onChange={filter(setAction)} placeholder="approval.decide" />
        </label>
      </div>
      <Loaded {...events}>
        {(page) =>
          page.events.length === 0 ? (
            <Empty>No events{actor || action ? ' match these filters' : ''}.</Empty>
          ) : (
            <>
              <table className="audit">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>At</th>
                    <th>Actor</th>
                    <th>Action</th>
                    <th>Subject</th>
                    <th>Change</th>
                  </tr>
                </thead>
                <tbody>
                  {page.events.map((e) => (
                    <tr key={e.seq}>
                      <td title={e.hash}>{e.seq}</td>
                      <td>{time(e.at)}</td>
                      <td>{e.actor}</td>
                      <td>
                        <code>{e.action}</code>
                      </td>
                      <td>{e.subject}</td>
                      <td className="change">
                        {e.before !== null && e.before !== undefined && <code>{JSON.stringify(e.before)}</code>}
                        {e.after !== null && e.after !== undefined && <code>→ {JSON.stringify(e.after)}</code>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {pager(page.next)}
            </>
          )
        }
      </Loaded>
    </section>
  );
}
