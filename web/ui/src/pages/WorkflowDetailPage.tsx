import { useMemo, useState } from 'react';
import { runsApi, workflowsApi } from '../api/endpoints';
import type { Workflow } from '../api/types';
import { usePermission } from '../auth/session';
import { Dialog } from '../components/Dialog';
import { EmptyState } from '../components/EmptyState';
import { EnabledToggle } from '../components/EnabledToggle';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { RunInputsForm } from '../components/RunInputsForm';
import { RunsTable } from '../components/RunsTable';
import { Tabs } from '../components/Tabs';
import { VersionsPanel } from '../components/VersionsPanel';
import { WorkflowDag, type DagStep } from '../components/WorkflowDag';
import { WorkflowEditor } from '../components/WorkflowEditor';
import { triggerInWords } from '../lib/triggerWords';
import { useAsync } from '../lib/useAsync';
import { Link } from '../router/Link';
import { navigate } from '../router/router';
import { paths } from '../router/paths';

function RecentRuns({ workflowId }: { workflowId: string }) {
  const runs = useAsync((signal) => runsApi.list({ workflow: workflowId, limit: 10 }, signal), [workflowId]);
  if (runs.error) return <ProblemAlert error={runs.error} action="Could not load runs" onRetry={runs.reload} />;
  if (!runs.data) return <LoadingState label="Loading runs…" />;
  if (runs.data.items.length === 0) return <EmptyState title="This workflow has not run yet." />;
  return (
    <>
      <RunsTable runs={runs.data.items} showWorkflow={false} caption={`Recent runs of ${workflowId}`} />
      <p>
        <Link to={paths.runs({ workflow: workflowId })}>All runs of this workflow</Link>
      </p>
    </>
  );
}

export function WorkflowDetailPage({ id }: { id: string }) {
  const workflow = useAsync((signal) => workflowsApi.get(id, signal), [id]);
  const canRun = usePermission('runs:write');
  const [tab, setTab] = useState('runs');
  const [runFormOpen, setRunFormOpen] = useState(false);
  const w = workflow.data;

  const steps = useMemo<DagStep[]>(
    () => [
      ...(w?.steps ?? []).map((s) => ({ id: s.id, uses: s.uses, needs: s.needs, foreach: s.foreach })),
      ...(w?.on_failure ?? []).map((s) => ({ id: s.id, uses: s.uses, needs: s.needs, foreach: s.foreach, onFailure: true })),
    ],
    [w?.steps, w?.on_failure],
  );

  if (workflow.error && !w) {
    return (
      <>
        <PageHeader title="Workflow" />
        <ProblemAlert error={workflow.error} action="Could not load the workflow" onRetry={workflow.reload} />
      </>
    );
  }
  if (!w) return <LoadingState label="Loading workflow…" />;

  const replace = (updated: Workflow) => workflow.setData(() => updated);

  return (
    <>
      <PageHeader
        title={w.name}
        subtitle={
          <>
            <span className="mono">{w.id}</span> · revision {w.revision} · {w.source === 'file' ? `file ${w.source_file ?? ''}` : 'defined through the API'}
          </>
        }
        actions={
          <>
            <EnabledToggle workflow={w} onChanged={(enabled) => workflow.setData((prev) => (prev ? { ...prev, enabled } : prev))} />
            {canRun && (
              <button type="button" className="button button-primary" onClick={() => setRunFormOpen(true)}>
                Run now
              </button>
            )}
          </>
        }
      />
      {w.description.trim() && <p className="lead">{w.description.trim()}</p>}
      <p className="triggers">
        <strong>Triggers:</strong> {w.triggers.length === 0 ? 'none (started by hand or through the API)' : w.triggers.map(triggerInWords).join(' · ')}
        {!w.enabled && w.triggers.length > 0 && <span className="muted"> (off while disabled)</span>}
      </p>

      <section className="card" aria-labelledby="wf-graph">
        <h2 id="wf-graph">Steps</h2>
        {steps.length === 0 ? <EmptyState title="No steps." /> : <WorkflowDag steps={steps} label={`Steps of ${w.name}`} />}
      </section>

      <section className="card">
        <Tabs
          label="Workflow details"
          active={tab}
          onChange={setTab}
          tabs={[
            { id: 'runs', label: 'Recent runs', render: () => <RecentRuns workflowId={w.id} /> },
            { id: 'definition', label: 'Definition', render: () => <WorkflowEditor workflow={w} onSaved={replace} /> },
            { id: 'versions', label: 'Versions', render: () => <VersionsPanel workflow={w} onRolledBack={replace} /> },
          ]}
        />
      </section>

      <Dialog title={`Run ${w.name}`} open={runFormOpen} onClose={() => setRunFormOpen(false)}>
        <RunInputsForm
          inputs={w.inputs}
          onCancel={() => setRunFormOpen(false)}
          onSubmit={async (inputs) => {
            const started = await workflowsApi.startRun(w.id, inputs);
            setRunFormOpen(false);
            navigate(paths.run(started.run_id));
          }}
        />
      </Dialog>
    </>
  );
}
