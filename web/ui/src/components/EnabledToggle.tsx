import { useState } from 'react';
import { ApiError } from '../api/client';
import { workflowsApi } from '../api/endpoints';
import type { WorkflowSummary } from '../api/types';
import { usePermission } from '../auth/session';
import { toApiError } from '../lib/useAsync';
import { ProblemAlert } from './ProblemAlert';

export function EnabledToggle({ workflow, onChanged }: { workflow: WorkflowSummary; onChanged: (enabled: boolean) => void }) {
  const canWrite = usePermission('workflows:write');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      const updated = await workflowsApi.setEnabled(workflow.id, !workflow.enabled);
      onChanged(updated.enabled);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="enabled-toggle">
      <button
        type="button"
        role="switch"
        aria-checked={workflow.enabled}
        className={`switch ${workflow.enabled ? 'switch-on' : ''}`}
        disabled={!canWrite || busy}
        onClick={() => void toggle()}
        title={canWrite ? undefined : 'Your role cannot enable or disable workflows'}
      >
        <span className="switch-knob" aria-hidden="true" />
        <span className="switch-label">{workflow.enabled ? 'Enabled' : 'Disabled'}</span>
      </button>
      {error && <ProblemAlert error={error} action={workflow.enabled ? 'Could not disable' : 'Could not enable'} />}
    </div>
  );
}
