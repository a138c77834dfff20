import { useMemo, useState } from 'react';
import { workflowsApi } from '../api/endpoints';
import type { StepStatus, Workflow } from '../api/types';
import { EmptyState } from '../components/EmptyState';
import { JsonView } from '../components/JsonView';
import { LiveIndicator } from '../components/LiveIndicator';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { RunActions } from '../components/RunActions';
import { RunLogs } from '../components/RunLogs';
import { RunTimeline } from '../components/RunTimeline';
import { StatusChip } from '../components/StatusChip';
import { StepDetails } from '../components/StepDetails';
import { WorkflowDag, type DagStep } from '../components/WorkflowDag';
import { formatDateTime, spanDuration } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { useNow } from '../lib/useNow';
import { useRunLive } from '../lib/useRunLive';
import { Link } from '../router/Link';
import { paths } from '../router/paths';

function dagSteps(workflow: Workflow | undefined, runStepIds: string[]): DagStep[] {
  const steps: DagStep[] = [];
  if (workflow) {
    for (const s of workflow.steps) steps.push({ id: s.id, uses: s.uses, needs: s.needs, foreach: s.foreach });
    for (const s of workflow.on_failure) steps.push({ id: s.id, uses: s.uses, needs: s.needs, foreach: s.foreach, onFailure: true });
  }
  // The run may use an older definition: its extra steps still show, unconnected.
  const known = new Set(steps.map((s) => s.id));
  for (const id of runStepIds) if (!known.has(id)) steps.push({ id, uses: 'step', needs: [] });
  return steps;
}

export function RunDetailPage({ id }: { id: string }) {
  const run = useRunLive(id);
  const workflowId = run.data?.workflow_id;
  const workflow = useAsync(
    (signal) => (workflowId ? workflowsApi.get(workflowId, signal) : Promise.resolve(undefined)),
    [workflowId],
  );
  const [selected, setSelected] = useState<string | null>(null);
  const [logsOfSelected, setLogsOfSelected] = useState(false);
  const detail = run.data;
  const active = detail?.status === 'running' || detail?.status === 'queued';
  const now = useNow(active);

  const runStepIds = useMemo(() => detail?.steps.map((s) => s.step_id) ?? [], [detail?.steps]);
  const steps = useMemo(() => dagSteps(workflow.data, runStepIds), [workflow.data, runStepIds]);
  const statuses = useMemo(() => {
    const map: Record<string, StepStatus> = {};
    for (const s of detail?.steps ?? []) map[s.step_id] = s.status;
    return map;
  }, [detail?.steps]);

  if (run.error && !detail) {
    return (
      <>
        <PageHeader title="Run" />
        <ProblemAlert error={run.error} action="Could not load the run" onRetry={run.reload} />
      </>
    );
  }
  if (!detail) return <LoadingState label="Loading run…" />;

  const selectedStep = detail.steps.find((s) => s.step_id === selected) ?? null;
  const version = detail.steps.filter((s) => s.finished_at).length + (detail.finished_at ? 1000 : 0);
  const pendingApprovals = detail.approvals.filter((a) => a.status === 'pending');
  const usesOf = (stepId: string) => steps.find((s) => s.id === stepId)?.uses;

  return (
    <>
      <PageHeader
        title={
          <>
            Run <span className="mono">{detail.id}</span>
          </>
        }
        subtitle={
          <span className="header-meta">
            <StatusChip status={detail.status} />
            <span>
              of <Link to={paths.workflow(detail.workflow_id)}>{detail.workflow_id}</Link>
            </span>
            <LiveIndicator state={run.live} />
          </span>
        }
        actions={<RunActions run={detail} onChanged={run.reload} />}
      />

      {pendingApprovals.length > 0 && (
        <div className="alert alert-info" role="status">
          This run waits for approval of step <strong>{pendingApprovals.map((a) => a.step_id).join(', ')}</strong>.{' '}
          <Link to={paths.approvals()}>Open Approvals</Link>
        </div>
      )}
      {detail.error && (
        <div className="alert alert-error">
          <strong>Error:</strong> {detail.error}
        </div>
      )}

      <section className="card" aria-labelledby="run-facts">
        <h2 id="run-facts" className="visually-hidden">
          Run facts
        </h2>
        <dl className="facts">
          <div>
            <dt>Trigger</dt>
            <dd>{detail.trigger_type}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDateTime(detail.created_at)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{spanDuration(detail.started_at, detail.finished_at, now)}</dd>
          </div>
          {detail.rerun_of && (
            <div>
              <dt>Retry/re-run of</dt>
              <dd>
                <Link to={paths.run(detail.rerun_of)} className="mono">
                  {detail.rerun_of}
                </Link>
              </dd>
            </div>
          )}
          {detail.dry_run && (
            <div>
              <dt>Mode</dt>
              <dd>Dry run</dd>
            </div>
          )}
        </dl>
        <div className="two-col">
          <JsonView label="Inputs" value={detail.inputs} />
          {detail.outputs && <JsonView label="Outputs" value={detail.outputs} />}
        </div>
      </section>

      <section className="card" aria-labelledby="run-graph">
        <h2 id="run-graph">Steps</h2>
        {workflow.error && <p className="muted">The workflow definition could not be loaded; steps are shown without their links.</p>}
        {steps.length === 0 ? (
          <EmptyState title="No steps recorded yet." />
        ) : (
          <WorkflowDag
            steps={steps}
            statuses={statuses}
            selected={selected}
            onSelect={(stepId) => setSelected((cur) => (cur === stepId ? null : stepId))}
            label={`Steps of run ${detail.id}; choose a step to see its details`}
          />
        )}
        <p className="muted small">Choose a step in the graph or the timeline to see its attempts, inputs and outputs.</p>
      </section>

      <div className="run-columns">
        <section className="card" aria-labelledby="run-timeline">
          <h2 id="run-timeline">Timeline</h2>
          <RunTimeline
            steps={detail.steps}
            order={steps.map((s) => s.id)}
            now={now}
            selected={selected}
            onSelect={(stepId) => setSelected(stepId)}
          />
        </section>
        {selectedStep ? (
          <StepDetails runId={detail.id} step={selectedStep} uses={usesOf(selectedStep.step_id)} version={version} />
        ) : (
          <section className="card">
            <EmptyState title="No step chosen.">Choose a step to see its details.</EmptyState>
          </section>
        )}
      </div>

      <section className="card" aria-labelledby="run-logs">
        <div className="section-head">
          <h2 id="run-logs">Log</h2>
          {selected && (
            <label className="checkbox">
              <input type="checkbox" checked={logsOfSelected} onChange={(e) => setLogsOfSelected(e.target.checked)} />
              Only step {selected}
            </label>
          )}
        </div>
        <RunLogs runId={detail.id} step={logsOfSelected ? selected : null} version={version} />
      </section>
    </>
  );
}
