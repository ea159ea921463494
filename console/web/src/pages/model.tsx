import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import type { AliasMoveResponse, ModelDetail, ModelVersionDetail, PromoteRequest } from '../../../api';
import { api } from '../api-client';
import { Confusion, Curves, Fairness, MetricsAcross } from '../components/model-charts';
import { Empty, ErrorNote, Loaded } from '../components/status';
import { short, time, value } from '../format';
import { useApi } from '../use-api';

/** A model: versions with their metrics side by side, aliases, and one version's evaluation. */
export function ModelPage({ name, version }: { name: string; version: string | undefined }) {
  const model = useApi<ModelDetail>(`/models/${encodeURIComponent(name)}`);
  const [, navigate] = useLocation();
  return (
    <section>
      <p className="crumbs">
        <Link href="/models">Models</Link> / {name}
      </p>
      <Loaded {...model}>
        {(detail) => {
          const chosen = version ?? String(detail.versions[0]?.version ?? '');
          return (
            <>
              <h1>{detail.name}</h1>
              {detail.description && <p className="muted">{detail.description}</p>}
              <Aliases detail={detail} onMoved={model.reload} />
              {detail.versions.length === 0 ? (
                <Empty>No versions yet.</Empty>
              ) : (
                <>
                  <VersionsTable
                    detail={detail}
                    selected={chosen}
                    onSelect={(v) => navigate(`/models/${encodeURIComponent(name)}/${v}`)}
                  />
                  <MetricsAcross versions={[...detail.versions].reverse()} />
                </>
              )}
              {chosen && <VersionView name={name} version={chosen} onMoved={model.reload} />}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

function VersionsTable({
  detail,
  selected,
  onSelect,
}: {
  detail: ModelDetail;
  selected: string;
  onSelect: (version: number) => void;
}) {
  const metrics = [...new Set(detail.versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  return (
    <div className="scroll">
      <table className="versions">
        <thead>
          <tr>
            <th>Version</th>
            {detail.versions.map((v) => (
              <th key={v.version} className={String(v.version) === selected ? 'selected' : ''}>
                <button type="button" className="link" onClick={() => onSelect(v.version)}>
                  v{v.version}
                </button>
                {v.aliases.map((a) => (
                  <span key={a} className="tag">
                    {a}
                  </span>
                ))}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <th>created</th>
            {detail.versions.map((v) => (
              <td key={v.version}>
                {time(v.createdAt)} by {v.createdBy}
              </td>
            ))}
          </tr>
          {metrics.map((m) => (
            <tr key={m}>
              <th>{m}</th>
              {detail.versions.map((v) => (
                <td key={v.version}>{v.metrics[m] === undefined ? '' : value(v.metrics[m])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The aliases and their moves: roll one back, or point one at a version (approver; the server checks). */
function Aliases({ detail, onMoved }: { detail: ModelDetail; onMoved: () => void }) {
  const [error, setError] = useState<Error>();
  const [moved, setMoved] = useState<AliasMoveResponse>();
  const rollback = async (alias: string) => {
    setError(undefined);
    try {
      setMoved(
        await api.post<AliasMoveResponse>(
          `/models/${encodeURIComponent(detail.name)}/aliases/${encodeURIComponent(alias)}/rollback`,
        ),
      );
      onMoved();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <div className="aliases">
      {Object.entries(detail.aliases).map(([alias, version]) => (
        <span key={alias} className="alias">
          <strong>{alias}</strong> → v{version}
          <button type="button" className="quiet" onClick={() => rollback(alias)}>
            Roll back
          </button>
        </span>
      ))}
      {moved && (
        <span className="note ok">
          {moved.alias}: v{moved.previous ?? '—'} → v{moved.version}
        </span>
      )}
      {error && <ErrorNote error={error} />}
    </div>
  );
}

function Promote({ name, version, onMoved }: { name: string; version: number; onMoved: () => void }) {
  const [alias, setAlias] = useState('production');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<Error>();
  const [moved, setMoved] = useState<AliasMoveResponse>();
  const promote = async () => {
    setError(undefined);
    try {
      const body: PromoteRequest = { version, ...(comment ? { comment } : {}) };
      setMoved(
        await api.post<AliasMoveResponse>(
          `/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`,
          body,
        ),
      );
      onMoved();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <div className="promote">
      <input name="alias" value={alias} onChange={(e) => setAlias(e.target.value)} aria-label="alias" />
      <input name="comment" placeholder="Comment" value={comment} onChange={(e) => setComment(e.target.value)} />
      <button type="button" onClick={promote} disabled={!alias}>
        Point {alias || 'alias'} at v{version}
      </button>
      {moved && (
        <span className="note ok">{moved.changed ? `${moved.alias} → v${moved.version}` : 'already there'}</span>
      )}
      {error && <ErrorNote error={error} />}
    </div>
  );
}

function VersionView({ name, version, onMoved }: { name: string; version: string; onMoved: () => void }) {
  const fetched = useApi<ModelVersionDetail>(
    `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
  );
  return (
    <Loaded {...fetched}>
      {(v) => (
        <div className="version" data-version={v.version}>
          <h2>
            Version {v.version}{' '}
            {v.aliases.map((a) => (
              <span key={a} className="tag">
                {a}
              </span>
            ))}
          </h2>
          <div className="facts">
            <span title={v.artifactSha256}>
              model <code>{short(v.artifactSha256)}</code>
            </span>
            {v.runId && <Link href={`/runs/${encodeURIComponent(v.runId)}`}>run {v.runId}</Link>}
            <Link href={`/lineage/${encodeURIComponent(`${name}@${v.version}`)}`}>Lineage</Link>
          </div>
          <Promote name={name} version={v.version} onMoved={onMoved} />
          <div className="charts">
            <Curves curves={v.curves} />
            {v.confusion && <Confusion confusion={v.confusion} />}
          </div>
          {v.fairness && <Fairness fairness={v.fairness} />}
          {v.robustness && (
            <details>
              <summary>Robustness</summary>
              <pre>{JSON.stringify(v.robustness, null, 2)}</pre>
            </details>
          )}
          {v.card && (
            <details>
              <summary>Model card</summary>
              <pre className="card-text">{v.card}</pre>
            </details>
          )}
        </div>
      )}
    </Loaded>
  );
}
