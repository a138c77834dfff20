import type { ApiError } from '../api/client';

interface ProblemAlertProps {
  error: ApiError;
  /** What the user was doing, e.g. "Could not start the run". */
  action?: string;
  onRetry?: () => void;
}

/** An API error as a person reads it: what failed, why, and each problem the server named. */
export function ProblemAlert({ error, action, onRetry }: ProblemAlertProps) {
  const { problem } = error;
  const detail = problem.detail && problem.detail !== problem.title ? problem.detail : null;
  return (
    <div className="alert alert-error" role="alert">
      <p className="alert-title">
        {action ? `${action}: ` : ''}
        {problem.title}
      </p>
      {detail && <p>{detail}</p>}
      {problem.required_permission && (
        <p>
          This needs the permission <code>{problem.required_permission}</code>.
        </p>
      )}
      {problem.errors && problem.errors.length > 0 && (
        <ul className="alert-list">
          {problem.errors.map((e, i) => (
            <li key={i}>
              {e.path ? <code>{e.path}</code> : e.line ? <span>line {e.line}:{e.column ?? 0}</span> : null}
              {e.path || e.line ? ': ' : ''}
              {e.message}
              {e.suggestion ? ` (did you mean ${e.suggestion}?)` : ''}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
