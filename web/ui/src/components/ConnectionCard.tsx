import { useId, useState } from 'react';
import type { ApiError } from '../api/client';
import type { Connection, ConnectionTest, ConnectionType } from '../api/connections';
import { rateLimitInWords } from '../lib/connectionForm';
import { toApiError } from '../lib/useAsync';
import { RelativeTime } from './RelativeTime';

interface ConnectionCardProps {
  connection: Connection;
  /** The connection's type, when the types could be loaded. */
  type?: ConnectionType;
  canWrite: boolean;
  canTest: boolean;
  onTest: () => Promise<ConnectionTest>;
  onEdit?: () => void;
  onRemove?: () => void;
}

type TestState =
  | { status: 'idle' }
  | { status: 'testing' }
  | { status: 'done'; result: ConnectionTest }
  | { status: 'error'; error: ApiError };

/**
 * The non-secret fields to show. The API only sends non-secret ones; anything the type marks
 * secret, or that is named as a set secret, is left out anyway.
 */
export function visibleFields(connection: Connection, type?: ConnectionType): { name: string; label: string; value: string }[] {
  const secret = new Set(connection.secret_fields_set);
  for (const field of type?.fields ?? []) if (field.secret) secret.add(field.name);
  const order = type?.fields.map((f) => f.name) ?? [];
  const names = Object.keys(connection.fields)
    .filter((name) => !secret.has(name))
    .sort((a, b) => {
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.localeCompare(b);
    });
  return names.map((name) => ({
    name,
    label: type?.fields.find((f) => f.name === name)?.label ?? name,
    value: connection.fields[name] ?? '',
  }));
}

function TestResult({ state, name }: { state: TestState; name: string }) {
  switch (state.status) {
    case 'idle':
      return null;
    case 'testing':
      return <p className="muted">Testing {name}…</p>;
    case 'error':
      return (
        <div className="connection-test-result connection-test-failed">
          <p className="connection-test-title">
            Could not test {name}: {state.error.problem.title}
          </p>
          {state.error.problem.detail && state.error.problem.detail !== state.error.problem.title && <p>{state.error.problem.detail}</p>}
        </div>
      );
    case 'done': {
      const { result } = state;
      return (
        <div className={`connection-test-result ${result.ok ? 'connection-test-ok' : 'connection-test-failed'}`}>
          <p className="connection-test-title">
            {result.ok ? `Test passed: ${name} works.` : `Test failed: ${result.error ?? 'the server gave no reason.'}`}
          </p>
          {result.checks.length > 0 && (
            <>
              <p className="small">{result.ok ? 'Checked:' : 'Passed before the failure:'}</p>
              <ol className="connection-checks">
                {result.checks.map((check, i) => (
                  <li key={i}>{check}</li>
                ))}
              </ol>
            </>
          )}
        </div>
      );
    }
  }
}

/** One connection: its type, settings, which secrets are set (never their values), and actions. */
export function ConnectionCard({ connection, type, canWrite, canTest, onTest, onEdit, onRemove }: ConnectionCardProps) {
  const headingId = useId();
  const [test, setTest] = useState<TestState>({ status: 'idle' });
  const fields = visibleFields(connection, type);
  const secretLabels = connection.secret_fields_set.map((name) => type?.fields.find((f) => f.name === name)?.label ?? name);

  const runTest = async () => {
    setTest({ status: 'testing' });
    try {
      setTest({ status: 'done', result: await onTest() });
    } catch (err) {
      setTest({ status: 'error', error: toApiError(err) });
    }
  };

  return (
    <article className="card connection-card" aria-labelledby={headingId}>
      <header className="connection-head">
        <div>
          <h2 id={headingId} className="connection-name mono">
            {connection.name}
          </h2>
          <p className="connection-type">
            {type?.title ?? connection.type} <span className="muted mono small">{connection.type}</span>
          </p>
        </div>
        <div className="button-row connection-actions">
          {canTest && (
            <button
              type="button"
              className="button button-small"
              onClick={runTest}
              disabled={test.status === 'testing'}
              aria-label={`Test ${connection.name}`}
            >
              {test.status === 'testing' ? 'Testing…' : 'Test'}
            </button>
          )}
          {canWrite && onEdit && (
            <button type="button" className="button button-small" onClick={onEdit} aria-label={`Edit ${connection.name}`}>
              Edit
            </button>
          )}
          {canWrite && onRemove && (
            <button type="button" className="button button-small connection-remove" onClick={onRemove} aria-label={`Remove ${connection.name}`}>
              Remove
            </button>
          )}
        </div>
      </header>

      <dl className="connection-facts">
        <dt>Settings</dt>
        <dd>
          {fields.length === 0 ? (
            <span className="muted">type defaults</span>
          ) : (
            <ul className="plain-list connection-settings">
              {fields.map((f) => (
                <li key={f.name}>
                  <span className="connection-setting-label">{f.label}:</span> <span className="mono">{f.value}</span>
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Secrets</dt>
        <dd>
          {secretLabels.length === 0 ? (
            <span className="muted">none set</span>
          ) : (
            <ul className="plain-list connection-secrets" aria-label="Secret fields that are set">
              {secretLabels.map((label, i) => (
                <li key={connection.secret_fields_set[i]}>
                  <span className="tag connection-set-tag">{label}: set</span>
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Rate limit</dt>
        <dd>
          {rateLimitInWords(connection.rate_limit)}
          {connection.rate_limit_default && <span className="muted"> (type default)</span>}
        </dd>
        {connection.updated_at > 0 && (
          <>
            <dt>Updated</dt>
            <dd>
              <RelativeTime at={connection.updated_at} />
            </dd>
          </>
        )}
      </dl>

      <div className="connection-test" aria-live="polite" aria-atomic="true">
        <TestResult state={test} name={connection.name} />
      </div>
    </article>
  );
}
