import { workflowsApi } from '../api/endpoints';
import type { WorkflowSummary } from '../api/types';
import { EmptyState } from '../components/EmptyState';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { RelativeTime } from '../components/RelativeTime';
import { StatusChip } from '../components/StatusChip';
import { triggerInWords } from '../lib/triggerWords';
import { useAsync } from '../lib/useAsync';
import { Link } from '../router/Link';
import { paths } from '../router/paths';

function SuccessRate({ rate }: { rate: number | null | undefined }) {
  if (rate === null || rate === undefined) return <span className="muted">–</span>;
  const percent = Math.round(rate * 100);
  return (
    <span className="rate">
      <span className="rate-bar" aria-hidden="true">
        <span className={`rate-fill ${percent >= 90 ? 'rate-good' : percent >= 60 ? 'rate-fair' : 'rate-poor'}`} style={{ width: `${percent}%` }} />
      </span>
      {percent}%
    </span>
  );
}

function WorkflowRow({ workflow }: { workflow: WorkflowSummary }) {
  const last = workflow.last_run;
  return (
    <tr>
      <td>
        <Link to={paths.workflow(workflow.id)} className="strong-link">
          {workflow.name}
        </Link>
        <div className="muted small mono">{workflow.id}</div>
      </td>
      <td>
        <div className="cell-description" title={workflow.description.trim()}>
          {workflow.description.trim() || <span className="muted">–</span>}
        </div>
      </td>
      <td>
        <span className={`state ${workflow.enabled ? 'state-on' : 'state-off'}`}>{workflow.enabled ? 'Enabled' : 'Disabled'}</span>
      </td>
      <td>
        {workflow.triggers.length === 0 ? (
          <span className="muted">manual only</span>
        ) : (
          <ul className="plain-list">
            {workflow.triggers.map((t, i) => (
              <li key={i}>{triggerInWords(t)}</li>
            ))}
          </ul>
        )}
      </td>
      <td>
        {last ? (
          <Link to={paths.run(last.id)} className="last-run">
            <span className="visually-hidden">Last run: </span>
            <StatusChip status={last.status} /> <RelativeTime at={last.created_at} />
          </Link>
        ) : last === null ? (
          <span className="muted">never</span>
        ) : (
          <Link to={paths.runs({ workflow: workflow.id })}>runs</Link>
        )}
      </td>
      <td>
        <SuccessRate rate={workflow.success_rate} />
      </td>
    </tr>
  );
}

export function WorkflowsPage() {
  const list = useAsync((signal) => workflowsApi.list(signal), []);
  const items = list.data?.items ?? [];
  const problems = list.data?.problems ?? [];

  return (
    <>
      <PageHeader title="Workflows" subtitle="What runs, when, and how it went." />
      {list.error && <ProblemAlert error={list.error} action="Could not load workflows" onRetry={list.reload} />}
      {list.loading && !list.data && <LoadingState label="Loading workflows…" />}
      {problems.length > 0 && (
        <div className="alert alert-warn" role="status">
          <p className="alert-title">Some workflow files do not load</p>
          <ul className="alert-list">
            {problems.map((p) => (
              <li key={p.file}>
                <code>{p.file}</code>:{' '}
                {p.errors.map((e) => `line ${e.line}:${e.column} ${e.message}`).join('; ')}
              </li>
            ))}
          </ul>
        </div>
      )}
      {list.data && items.length === 0 && (
        <EmptyState title="No workflows yet.">Add YAML files to a watched folder, or create one through the API.</EmptyState>
      )}
      {items.length > 0 && (
        <section className="card card-flush">
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Workflows</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Description</th>
                  <th scope="col">Status</th>
                  <th scope="col">Triggers</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Success (30 days)</th>
                </tr>
              </thead>
              <tbody>
                {items.map((w) => (
                  <WorkflowRow key={w.id} workflow={w} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}
