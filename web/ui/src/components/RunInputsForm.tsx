import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import type { WorkflowInput } from '../api/types';
import { initialFieldText, parseInputs, serverInputErrors, type FieldText } from '../lib/inputValues';
import { toApiError } from '../lib/useAsync';
import { ProblemAlert } from './ProblemAlert';

interface RunInputsFormProps {
  inputs: WorkflowInput[];
  onSubmit: (values: Record<string, unknown>) => Promise<void>;
  onCancel: () => void;
}

function InputField({
  input,
  value,
  error,
  onChange,
}: {
  input: WorkflowInput;
  value: FieldText;
  error?: string;
  onChange: (value: FieldText) => void;
}) {
  const id = `run-input-${input.name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [input.description ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;

  if (input.type === 'boolean') {
    return (
      <div className="field field-check">
        <label htmlFor={id} className="checkbox">
          <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={describedBy} />
          {input.name}
        </label>
        {input.description && (
          <p id={hintId} className="hint">
            {input.description}
          </p>
        )}
        {error && (
          <p id={errorId} className="field-error">
            {error}
          </p>
        )}
      </div>
    );
  }

  const common = {
    id,
    value: typeof value === 'string' ? value : '',
    required: input.required && input.default === undefined,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
  };
  return (
    <div className="field">
      <label htmlFor={id}>
        {input.name}
        {common.required && <span className="required"> (required)</span>}
      </label>
      <div className="field-with-unit">
        {input.type === 'object' || input.type === 'array' ? (
          <textarea {...common} rows={4} className="mono" onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input
            {...common}
            type={input.type === 'number' || input.type === 'integer' ? 'number' : 'text'}
            step={input.type === 'integer' ? 1 : input.type === 'number' ? 'any' : undefined}
            inputMode={input.type === 'integer' ? 'numeric' : input.type === 'number' ? 'decimal' : undefined}
            onChange={(e) => onChange(e.target.value)}
          />
        )}
        {input.unit && <span className="unit">{input.unit}</span>}
      </div>
      {input.description && (
        <p id={hintId} className="hint">
          {input.description}
          {input.connection ? ` (a ${input.connection} connection)` : ''}
        </p>
      )}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The form of a workflow's declared inputs, typed as the workflow declares them. */
export function RunInputsForm({ inputs, onSubmit, onCancel }: RunInputsFormProps) {
  const [texts, setTexts] = useState<Record<string, FieldText>>(() =>
    Object.fromEntries(inputs.map((i) => [i.name, initialFieldText(i)])),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseInputs(inputs, texts);
    setErrors(parsed.errors);
    setProblem(null);
    if (Object.keys(parsed.errors).length > 0) return;
    setBusy(true);
    try {
      await onSubmit(parsed.values);
    } catch (err) {
      const apiError = toApiError(err);
      const { byField, rest } = serverInputErrors(inputs, apiError.problem.errors);
      setErrors(byField);
      setProblem(rest.length > 0 || Object.keys(byField).length === 0 ? new ApiError({ ...apiError.problem, errors: rest }) : null);
      setBusy(false);
    }
  };

  return (
    <form className="run-form" onSubmit={submit} noValidate aria-label="Run inputs">
      {inputs.length === 0 && <p className="muted">This workflow takes no inputs.</p>}
      {inputs.map((input) => (
        <InputField
          key={input.name}
          input={input}
          value={texts[input.name] ?? ''}
          error={errors[input.name]}
          onChange={(value) => setTexts((prev) => ({ ...prev, [input.name]: value }))}
        />
      ))}
      {problem && <ProblemAlert error={problem} action="Could not start the run" />}
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Starting…' : 'Start run'}
        </button>
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
