import { Background, Controls, ReactFlow, type Edge } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { StepStatus } from '../api/types';
import { layoutDag } from '../lib/dagLayout';
import { useTheme } from '../lib/theme';
import { StepNode, type StepFlowNode } from './StepNode';

export interface DagStep {
  id: string;
  uses: string;
  needs: string[];
  foreach?: boolean;
  onFailure?: boolean;
}

interface WorkflowDagProps {
  steps: DagStep[];
  statuses?: Record<string, StepStatus | undefined>;
  selected?: string | null;
  onSelect?: (stepId: string) => void;
  label: string;
}

const nodeTypes = { step: StepNode };
const NODE_WIDTH = 190;

export function WorkflowDag({ steps, statuses, selected, onSelect, label }: WorkflowDagProps) {
  const theme = useTheme();
  const containerRef = useRef<HTMLDivElement>(null);
  const [sized, setSized] = useState(false);

  // React Flow measures its container once when it mounts; mounting it before the container
  // is laid out (a page arriving mid-transition) leaves an empty, unfitted graph.
  useEffect(() => {
    const element = containerRef.current;
    if (!element) return;
    const check = () => setSized(element.offsetWidth > 0 && element.offsetHeight > 0);
    check();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(check);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const positions = useMemo(
    () => layoutDag(steps.map((s) => ({ id: s.id, needs: s.needs })), { columnGap: NODE_WIDTH + 60, rowGap: 92 }),
    [steps],
  );

  const nodes: StepFlowNode[] = steps.map((step) => {
    const p = positions.get(step.id) ?? { x: 0, y: 0 };
    return {
      id: step.id,
      type: 'step',
      position: { x: p.x, y: p.y },
      draggable: false,
      selectable: false,
      focusable: false,
      data: {
        stepId: step.id,
        uses: step.uses,
        foreach: Boolean(step.foreach),
        onFailure: Boolean(step.onFailure),
        status: statuses?.[step.id],
        selected: selected === step.id,
        onSelect,
      },
    };
  });

  const known = new Set(steps.map((s) => s.id));
  const edges: Edge[] = steps.flatMap((step) =>
    step.needs
      .filter((need) => known.has(need))
      .map((need) => ({
        id: `${need}->${step.id}`,
        source: need,
        target: step.id,
        animated: statuses?.[need] === 'succeeded' && statuses?.[step.id] === 'running',
        focusable: false,
      })),
  );

  const rows = Math.max(1, ...[...positions.values()].map((p) => p.row + 1));
  const height = Math.min(440, Math.max(180, rows * 92 + 90));
  // fitView applies when the flow mounts, so a new set of steps mounts a new flow.
  const shape = steps.map((s) => `${s.id}<${s.needs.join(',')}`).join(';');

  return (
    <div className="dag" role="group" aria-label={label} style={{ height }} ref={containerRef}>
      {sized && (
      <ReactFlow
        key={shape}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        colorMode={theme}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
        minZoom={0.2}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        zoomOnScroll={false}
        preventScrolling={false}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
      )}
    </div>
  );
}
