// What an approval is about. The approval itself carries only its message, so the plan is read
// from the run: the data of the nearest step before the approval that produced rows (e.g. the
// campaigns a guardrail flagged), and the steps that will run once it is approved.
import type { Approval, RunDetail, Workflow } from '../api/types';

export interface ApprovalPlan {
  /** Structured data to show; undefined when there is none. */
  data: unknown;
  /** The step the data came from, when it was read from the run. */
  source?: string;
  /** Steps that wait for this approval. */
  next: { id: string; uses: string; foreach: boolean }[];
}

function isRowList(value: unknown): value is Record<string, unknown>[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))
  );
}

function hasRows(value: unknown): boolean {
  if (isRowList(value)) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).some(isRowList);
}

export function approvalPlan(approval: Approval, run: RunDetail | undefined, workflow: Workflow | undefined): ApprovalPlan {
  const steps = workflow?.steps ?? [];
  const next = steps
    .filter((s) => s.needs.includes(approval.step_id))
    .map((s) => ({ id: s.id, uses: s.uses, foreach: s.foreach }));

  if (approval.details !== undefined && approval.details !== null) return { data: approval.details, next };
  if (!run) return { data: undefined, next };

  const outputs = new Map(run.steps.map((s) => [s.step_id, s.output]));
  const needs = new Map(steps.map((s) => [s.id, s.needs]));
  const seen = new Set<string>([approval.step_id]);
  let frontier = [...(needs.get(approval.step_id) ?? [])];
  // Breadth first, so the nearest producing step wins over earlier raw inputs.
  while (frontier.length > 0) {
    const following: string[] = [];
    for (const id of frontier) {
      if (seen.has(id)) continue;
      seen.add(id);
      const output = outputs.get(id);
      if (hasRows(output)) return { data: output, source: id, next };
      following.push(...(needs.get(id) ?? []));
    }
    frontier = following;
  }
  return { data: undefined, next };
}
