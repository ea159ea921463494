import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
  type NodeTypes,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import ELK from 'elkjs/lib/elk.bundled.js';
import { useEffect, useMemo, useState } from 'react';

// A type, not an interface: React Flow's node data must be indexable.
/** A box in a graph: a title, a few lines under it, and a colour for its state or kind. */
export type Box = {
  id: string;
  title: string;
  lines?: string[];
  /** A CSS colour for the box's band and border. */
  tone: string;
  /** Kept on the element as data-state, for tests and for styling. */
  state?: string;
};

export interface Link {
  from: string;
  to: string;
  label?: string;
}

type BoxData = Box & { selected: boolean; direction: Direction };
type Direction = 'DOWN' | 'RIGHT';

const WIDTH = 220;
const LINE = 16;
const heightOf = (n: Box) => 34 + LINE * (n.lines?.length ?? 0);
const elk = new ELK();

function BoxView({ data }: NodeProps<Node<BoxData>>) {
  const [target, source] =
    data.direction === 'DOWN' ? [Position.Top, Position.Bottom] : [Position.Left, Position.Right];
  return (
    <div
      className={`graph-box${data.selected ? ' selected' : ''}`}
      style={{ borderColor: data.tone, width: WIDTH }}
      data-node={data.id}
      data-state={data.state}
    >
      <Handle type="target" position={target} isConnectable={false} />
      <div className="graph-box-title" style={{ background: data.tone }}>
        {data.title}
      </div>
      {data.lines?.map((line, i) => (
        <div key={i} className="graph-box-line" title={line}>
          {line}
        </div>
      ))}
      <Handle type="source" position={source} isConnectable={false} />
    </div>
  );
}
const nodeTypes: NodeTypes = { box: BoxView };

/**
 * A directed graph laid out by ELK's layered algorithm and drawn by React Flow (pan, zoom, click
 * a box to select it). The layout is computed again only when the shape changes (ids, edges, line
 * counts), so live updates recolour boxes without moving them.
 */
export function GraphView({
  nodes,
  edges,
  direction = 'DOWN',
  selected,
  onSelect,
  maxHeight = 900,
}: {
  nodes: Box[];
  edges: Link[];
  direction?: Direction;
  selected?: string | undefined;
  onSelect?: (id: string) => void;
  /** The graph's box grows with the laid-out graph up to this, then React Flow zooms out. */
  maxHeight?: number;
}) {
  const shape = JSON.stringify([
    direction,
    nodes.map((n) => [n.id, n.lines?.length ?? 0]),
    edges.map((e) => [e.from, e.to, e.label ?? '']),
  ]);
  const [layout, setLayout] = useState<{
    shape: string;
    height: number;
    positions: Map<string, { x: number; y: number }>;
  }>();
  const [layoutError, setLayoutError] = useState<Error>();

  useEffect(() => {
    let current = true;
    const ids = new Set(nodes.map((n) => n.id));
    elk
      .layout({
        id: 'root',
        layoutOptions: {
          'elk.algorithm': 'layered',
          'elk.direction': direction,
          'elk.layered.spacing.nodeNodeBetweenLayers': '28',
          'elk.spacing.nodeNode': '20',
        },
        children: nodes.map((n) => ({ id: n.id, width: WIDTH, height: heightOf(n) })),
        // An edge to a node the graph does not hold would make ELK throw: draw what is known.
        edges: edges
          .filter((e) => ids.has(e.from) && ids.has(e.to))
          .map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
      })
      .then((laid) => {
        if (!current) return;
        setLayout({
          shape,
          height: Math.max(0, ...(laid.children ?? []).map((c) => (c.y ?? 0) + (c.height ?? 0))),
          positions: new Map(laid.children?.map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }])),
        });
      })
      .catch((error: unknown) => current && setLayoutError(error instanceof Error ? error : new Error(String(error))));
    return () => {
      current = false;
    };
    // The shape string stands for nodes, edges and direction: a recolour must not lay out again.
  }, [shape]);

  const flowNodes = useMemo<Node<BoxData>[]>(
    () =>
      nodes.map((n) => ({
        id: n.id,
        type: 'box',
        position: layout?.positions.get(n.id) ?? { x: 0, y: 0 },
        data: { ...n, selected: n.id === selected, direction },
        width: WIDTH,
        height: heightOf(n),
      })),
    [nodes, layout, selected, direction],
  );
  const flowEdges = useMemo<Edge[]>(
    () =>
      edges.map((e, i) => ({
        id: `${e.from}->${e.to}#${i}`,
        source: e.from,
        target: e.to,
        ...(e.label ? { label: e.label } : {}),
      })),
    [edges],
  );

  if (layoutError) return <div className="note error">The graph could not be laid out: {layoutError.message}</div>;
  if (!layout || layout.shape !== shape) return <div className="graph" style={{ height: 300 }} />;
  return (
    <div className="graph" style={{ height: Math.min(maxHeight, Math.max(300, layout.height + 60)) }}>
      <ReactFlow
        key={shape}
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.08, maxZoom: 1 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => onSelect?.(node.id)}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
