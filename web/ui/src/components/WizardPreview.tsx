import type { Diagnostic, Workflow } from '../api/types';
import { WorkflowDag, type DagStep } from './WorkflowDag';
import { YamlEditor } from './YamlEditor';

export type CheckState = 'idle' | 'checking' | 'valid' | 'invalid' | 'error';

export interface DefinitionCheck {
  state: CheckState;
  errors: Diagnostic[];
  /** The last valid definition as the server read it (for the graph). */
  workflow: Workflow | null;
  message?: string;
}

function dagSteps(workflow: Workflow): DagStep[] {
  return [
    ...workflow.steps.map((s) => ({ id: s.id, uses: s.uses, needs: s.needs, foreach: s.foreach })),
    ...workflow.on_failure.map((s) => ({ id: s.id, uses: s.uses, needs: s.needs, foreach: s.foreach, onFailure: true })),
  ];
}

export function checkStatusText(check: DefinitionCheck): string {
  switch (check.state) {
    case 'checking':
      return 'Checking the definition…';
    case 'valid':
      return 'The definition is valid.';
    case 'invalid':
      return `${check.errors.length} problem${check.errors.length === 1 ? '' : 's'} in the definition.`;
    case 'error':
      return `The definition could not be checked${check.message ? `: ${check.message}` : '.'}`;
    default:
      return '';
  }
}

/** The new workflow as it will be saved: its steps as a graph, the check, and the YAML. */
export function WizardPreview({ yaml, check, name }: { yaml: string; check: DefinitionCheck; name: string }) {
  return (
    <section className="wizard-preview card" aria-labelledby="wizard-preview-title">
      <div className="section-head">
        <h2 id="wizard-preview-title">Preview</h2>
        <span className={`check check-${check.state}`} role="status" aria-live="polite">
          {checkStatusText(check)}
        </span>
      </div>
      {check.errors.length > 0 && (
        <ul className="diagnostics" aria-label="Problems in the definition">
          {check.errors.map((d, i) => (
            <li key={i}>
              <span className="mono">
                line {d.line}:{d.column}
              </span>{' '}
              {d.message}
              {d.suggestion && <span className="muted"> (did you mean {d.suggestion}?)</span>}
            </li>
          ))}
        </ul>
      )}
      <h3 className="small-heading">Steps</h3>
      {check.workflow ? (
        <div className={check.state === 'invalid' ? 'wizard-dag-stale' : undefined}>
          <WorkflowDag steps={dagSteps(check.workflow)} label={`Steps of ${name || 'the new workflow'}`} />
          <ol className="wizard-step-list small" aria-label="Steps in order">
            {check.workflow.steps.map((s) => (
              <li key={s.id} title={s.uses}>
                <span className="mono">{s.id}</span>
                {s.foreach && <span className="muted"> (each item)</span>}
              </li>
            ))}
          </ol>
          {check.state === 'invalid' && <p className="hint">The graph shows the last valid version.</p>}
        </div>
      ) : (
        <p className="muted">{check.state === 'checking' || check.state === 'idle' ? 'The graph appears once the definition is checked.' : 'No graph: the definition is not valid.'}</p>
      )}
      <h3 className="small-heading">YAML</h3>
      <div className="wizard-yaml">
        <YamlEditor value={yaml} onChange={() => undefined} readOnly diagnostics={check.errors} language="yaml" label="YAML of the new workflow, read-only" />
      </div>
    </section>
  );
}
