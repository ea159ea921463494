import { useState } from 'react';
import type { AuditPage as Page, AuditVerifyResponse } from '../../../api';
import { query } from '../api-client';
import { usePages } from '../components/pager';
import { DataTable } from '../components/data-table';
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
              <DataTable
                className="audit"
                rows={page.events}
                rowKey={(e) => e.seq}
                columns={[
                  { header: '#', cell: (e) => e.seq, td: (e) => ({ title: e.hash }) },
                  { header: 'At', cell: (e) => time(e.at) },
                  { header: 'Actor', cell: (e) => e.actor },
                  { header: 'Action', cell: (e) => <code>{e.action}</code> },
                  { header: 'Subject', cell: (e) => e.subject },
                  {
                    header: 'Change',
                    td: () => ({ className: 'change' }),
                    cell: (e) => (
                      <>
                        {e.before !== null && e.before !== undefined && <code>{JSON.stringify(e.before)}</code>}
                        {e.after !== null && e.after !== undefined && <code>→ {JSON.stringify(e.after)}</code>}
                      </>
                    ),
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
