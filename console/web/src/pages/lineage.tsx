import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import type { LineageNodeKind, LineageResponse } from '../../../api';
import { query } from '../api-client';
import { GraphView, type Box } from '../components/graph-view';
import { Empty, Loaded } from '../components/status';
import { short } from '../format';
import { useApi } from '../use-api';

const kindTone: Record<LineageNodeKind, string> = {
  artifact: '#2d9cdb',
  step: '#6c757d',
  run: '#9b51e0',
  model: '#27ae60',
};

type Direction = 'up' | 'down' | 'both';
type LineageNode = LineageResponse['nodes'][number];

function box(n: LineageNode): Box {
  return {
    id: n.id,
    title: n.label,
    lines: [[n.kind, n.detail].filter(Boolean).join(' · '), ...(n.hash ? [`sha256 ${short(n.hash)}`] : [])],
    tone: kindTone[n.kind],
    state: n.kind,
  };
}

/** Where something came from, or what came of it: a model version, an artifact (hash) or a run. */
export function LineagePage({ target }: { target: string | undefined }) {
  const [direction, setDirection] = useState<Direction>('up');
  const [typed, setTyped] = useState(target ?? '');
  const [selected, setSelected] = useState<string>();
  const [, navigate] = useLocation();
  const lineage = useApi<LineageResponse>(target ? `/lineage${query({ target, direction })}` : null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSelected(undefined);
    navigate(`/lineage/${encodeURIComponent(typed.trim())}`);
  };

  return (
    <section>
      <h1>Lineage</h1>
      <form className="filters" onSubmit={submit}>
        <label>
          Of
          <input
            name="target"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            placeholder="credit-risk@production, a sha256, run:<id>"
            size={48}
          />
        </label>
        <label>
          Direction
          <select value={direction} onChange={(e) => setDirection(e.target.value as Direction)} name="direction">
            <option value="up">upstream (where it came from)</option>
            <option value="down">downstream (what came of it)</option>
            <option value="both">both</option>
          </select>
        </label>
        <button type="submit" disabled={!typed.trim()}>
          Show
        </button>
      </form>
      {!target ? (
        <Empty>Name a model version (credit-risk@production), an artifact&apos;s hash or a run (run:ID).</Empty>
      ) : (
        <Loaded {...lineage}>
          {(graph) =>
            graph.nodes.length === 0 ? (
              <Empty>
                Nothing is recorded {direction === 'down' ? 'downstream' : 'upstream'} of {target}.
              </Empty>
            ) : (
              <div className="run-body">
                <GraphView
                  nodes={graph.nodes.map(box)}
                  edges={graph.edges}
                  selected={selected}
                  onSelect={setSelected}
                />
                <NodePanel node={graph.nodes.find((n) => n.id === selected)} truncated={graph.truncated} />
              </div>
            )
          }
        </Loaded>
      )}
    </section>
  );
}

function NodePanel({ node, truncated }: { node: LineageNode | undefined; truncated: boolean }) {
  return (
    <aside className="step-panel">
      {truncated && <p className="note">The walk stopped at its depth limit: there is more beyond.</p>}
      {!node ? (
        <p className="muted">Click a box to see its hash and follow it.</p>
      ) : (
        <>
          <h2>{node.label}</h2>
          <dl>
            <dt>Kind</dt>
            <dd>
              {node.kind}
              {node.detail ? ` · ${node.detail}` : ''}
            </dd>
            {node.hash && (
              <>
                <dt>{node.kind === 'run' ? 'Plan hash' : 'sha256'}</dt>
                <dd>
                  <code className="hash" data-testid="node-hash">
                    {node.hash}
                  </code>
                </dd>
              </>
            )}
          </dl>
          {node.kind === 'artifact' && node.hash && (
            <Link href={`/lineage/${node.hash}`}>Lineage of this artifact</Link>
          )}
        </>
      )}
    </aside>
  );
}
