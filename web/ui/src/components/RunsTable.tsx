import type { Run } from '../api/types';
import { spanDuration } from '../lib/time';
import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { RelativeTime } from './RelativeTime';
import { StatusChip } from './StatusChip';

export function shortRunId(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}

export function RunsTable({ runs, showWorkflow = true, caption }: { runs: Run[]; showWorkflow?: boolean; caption: string }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            {showWorkflow && <th scope="col">Workflow</th>}
            <th scope="col">Status</th>
            <th scope="col">Trigger</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id}>
              <td>
                {/* The accessible name starts with the visible text (WCAG 2.5.3), then the whole id. */}
                <Link to={paths.run(run.id)} className="mono" title={run.id}>
                  {shortRunId(run.id)}
                  <span className="visually-hidden">, run {run.id}</span>
                </Link>
                {run.dry_run && <span className="tag">dry run</span>}
              </td>
              {showWorkflow && (
                <td>
                  <Link to={paths.workflow(run.workflow_id)}>{run.workflow_id}</Link>
                </td>
              )}
              <td>
                <StatusChip status={run.status} />
              </td>
              <td>{run.trigger_type}</td>
              <td>
                <RelativeTime at={run.created_at} />
              </td>
              <td>{run.started_at ? spanDuration(run.started_at, run.finished_at) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
