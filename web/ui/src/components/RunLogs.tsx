import { runsApi } from '../api/endpoints';
import { useAsync } from '../lib/useAsync';
import { LoadingState } from './LoadingState';
import { ProblemAlert } from './ProblemAlert';

interface RunLogsProps {
  runId: string;
  step: string | null;
  version: number;
}

function clockTime(at: number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour12: false }) + `.${String(at % 1000).padStart(3, '0')}`;
}

export function RunLogs({ runId, step, version }: RunLogsProps) {
  const logs = useAsync((signal) => runsApi.logs(runId, step ?? undefined, signal), [runId, step, version]);
  return (
    <div className="logs">
      {logs.error && <ProblemAlert error={logs.error} action="Could not load the log" onRetry={logs.reload} />}
      {logs.loading && !logs.data && <LoadingState label="Loading log…" />}
      {logs.data && logs.data.items.length === 0 && <p className="muted">No log lines{step ? ` for ${step}` : ''}.</p>}
      {logs.data && logs.data.items.length > 0 && (
        <div className="log-lines" tabIndex={0} role="log" aria-label={step ? `Log of step ${step}` : 'Run log'}>
          {logs.data.items.map((line, i) => (
            <div key={i} className={`log-line log-${line.level}`}>
              <span className="log-time">{clockTime(line.at)}</span>
              <span className="log-level">{line.level}</span>
              <span className="log-step">
                {line.step_id ?? 'run'}
                {line.index !== undefined ? `[${line.index}]` : ''}
              </span>
              <span className="log-message">{line.message}</span>
            </div>
          ))}
          {logs.data.total > logs.data.items.length && (
            <p className="muted">
              Showing the first {logs.data.items.length} of {logs.data.total} lines.
            </p>
          )}
        </div>
      )}
    </div>
  );
}
