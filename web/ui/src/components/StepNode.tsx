import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { StepStatus } from '../api/types';
import { statusLabel } from './StatusChip';

export interface StepNodeData extends Record<string, unknown> {
  stepId: string;
  uses: string;
  foreach: boolean;
  onFailure: boolean;
  status?: StepStatus;
  selected: boolean;
  onSelect?: (stepId: string) => void;
}

export type StepFlowNode = Node<StepNodeData, 'step'>;

export function StepNode({ data }: NodeProps<StepFlowNode>) {
  const content = (
    <>
      <span className="step-node-id">{data.stepId}</span>
      <span className="visually-hidden">, </span>
      <span className="step-node-kind">
        {data.uses}
        {data.foreach ? ' · for each' : ''}
        {data.onFailure ? ' · on failure' : ''}
      </span>
      {data.status && <span className="visually-hidden">, </span>}
      {data.status && <span className="step-node-status">{statusLabel(data.status)}</span>}
    </>
  );
  const className = `step-node step-${data.status ?? 'none'}${data.selected ? ' step-node-selected' : ''}`;
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {data.onSelect ? (
        <button
          type="button"
          className={className}
          aria-pressed={data.selected}
          onClick={() => data.onSelect?.(data.stepId)}
        >
          {content}
        </button>
      ) : (
        <div className={className}>{content}</div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </>
  );
}
