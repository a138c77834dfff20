import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import type { Connection, ConnectionField, ConnectionInput, ConnectionType } from '../api/connections';
import {
  buildConnectionInput,
  errorKeys,
  fieldKey,
  initialFormState,
  needsInput,
  placeServerErrors,
  rateLimitInWords,
  secretIsSet,
  type ConnectionFormState,
  type FormErrors,
} from '../lib/connectionForm';
import { toApiError } from '../lib/useAsync';
import { ProblemAlert } from './ProblemAlert';

interface ConnectionFormProps {
  types: ConnectionType[];
  /** The connection being changed; absent when adding one. */
  existing?: Connection;
  onSubmit: (input: ConnectionInput) => Promise<void>;
  onCancel: () => void;
}

const describedBy = (...ids: (string | false | undefined)[]) => ids.filter(Boolean).join(' ') || undefined;

function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} className="field-error">
      {message}
    </p>
  );
}

function ConnectionFieldInput({
  field,
  state,
  existing,
  error,
  oneOfNoteId,
  onValue,
  onClear,
}: {
  field: ConnectionField;
  state: ConnectionFormState;
  existing?: Connection;
  error?: string;
  oneOfNoteId?: string;
  onValue: (value: string) => void;
  onClear: (clear: boolean) => void;
}) {
  const id = `connection-field-${field.name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const value = state.values[field.name] ?? '';
  const required = needsInput(field, existing);
  const isSet = field.secret && secretIsSet(existing, field.name);
  const clearing = isSet && (state.clear[field.name] ?? false);

  let hint = field.description.trim();
  if (hint && !/[.!?]$/.test(hint)) hint += '.';
  if (field.default !== undefined && field.kind !== 'choice') hint += `${hint ? ' ' : ''}Default: ${field.default}.`;
  const secretHint = clearing ? 'Will be cleared when you save.' : isSet ? 'Set — leave empty to keep.' : '';

  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy((hint || secretHint) && hintId, oneOfNoteId, error && errorId),
    required,
  };

  let control;
  if (field.kind === 'choice' && !field.secret) {
    control = (
      <select {...common} value={value} onChange={(e) => onValue(e.target.value)}>
        <option value="">{field.default ? `Default (${field.default})` : 'Not set'}</option>
        {(field.choices ?? []).map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    );
  } else if (field.secret) {
    control = (
      <input
        {...common}
        type="password"
        value={value}
        disabled={clearing}
        autoComplete="new-password"
        spellCheck={false}
        autoCapitalize="off"
        onChange={(e) => onValue(e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type="text"
        value={value}
        placeholder={field.default}
        inputMode={field.kind === 'digits' ? 'numeric' : field.kind === 'url' ? 'url' : undefined}
        autoComplete="off"
        spellCheck={false}
        className={field.kind === 'url' || field.kind === 'digits' ? 'mono' : undefined}
        onChange={(e) => onValue(e.target.value)}
      />
    );
  }

  return (
    <div className={`field connection-field${field.secret ? ' connection-field-secret' : ''}`}>
      <label htmlFor={id}>
        {field.label}
        {required && <span className="required"> (required)</span>}
        {isSet && !clearing && <span className="tag connection-set-tag">set</span>}
      </label>
      <div className="connection-control">
        {control}
        {isSet && (
          <label className="checkbox connection-clear">
            <input type="checkbox" checked={clearing} onChange={(e) => onClear(e.target.checked)} />
            Clear<span className="visually-hidden"> {field.label}</span>
          </label>
        )}
      </div>
      {(hint || secretHint) && (
        <p id={hintId} className="hint">
          {secretHint && <strong className="connection-secret-hint">{secretHint} </strong>}
          {hint}
        </p>
      )}
      <FieldError id={errorId} message={error} />
    </div>
  );
}

/** Add or change a connection, with a form made from its type's fields. */
export function ConnectionForm({ types, existing, onSubmit, onCancel }: ConnectionFormProps) {
  const creating = existing === undefined;
  const [state, setState] = useState<ConnectionFormState>(() =>
    initialFormState(existing ? types.find((t) => t.name === existing.type) : undefined, existing),
  );
  const [errors, setErrors] = useState<FormErrors>({});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [focusTick, setFocusTick] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);

  const type = types.find((t) => t.name === state.type);

  useEffect(() => {
    if (focusTick === 0) return;
    const invalid = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    invalid?.focus();
  }, [focusTick]);

  const chooseType = (name: string) => {
    const next = initialFormState(types.find((t) => t.name === name));
    setState({ ...next, type: name, name: state.name });
    setErrors((prev) => ({ ...(prev.name ? { name: prev.name } : {}) }));
  };

  const setValue = (field: string, value: string) => {
    setState((prev) => ({ ...prev, values: { ...prev.values, [field]: value } }));
  };
  const setClear = (field: string, clear: boolean) => {
    setState((prev) => ({
      ...prev,
      clear: { ...prev.clear, [field]: clear },
      values: clear ? { ...prev.values, [field]: '' } : prev.values,
    }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    const built = buildConnectionInput(type, state, existing);
    setErrors(built.errors);
    if (!built.input) {
      setFocusTick((n) => n + 1);
      return;
    }
    setBusy(true);
    try {
      await onSubmit(built.input);
    } catch (err) {
      const apiError = toApiError(err);
      const { byField, rest } = placeServerErrors(apiError.problem.errors, errorKeys(type, creating));
      if (creating && apiError.status === 409 && !byField.name) byField.name = apiError.problem.detail || apiError.problem.title;
      setErrors(byField);
      const placed = Object.keys(byField).length > 0;
      setProblem(rest.length > 0 || !placed ? new ApiError({ ...apiError.problem, errors: rest }) : null);
      setBusy(false);
      if (placed) setFocusTick((n) => n + 1);
    }
  };

  const oneOfNoteId = 'connection-one-of-note';
  const oneOfLabels = type?.one_of.map((name) => type.fields.find((f) => f.name === name)?.label ?? name) ?? [];
  const rateHintId = 'connection-rate-hint';
  const perSecondError = errors['rate_limit.per_second'];
  const burstError = errors['rate_limit.burst'];
  const rateError = errors.rate_limit;

  return (
    <form
      ref={formRef}
      className="connection-form"
      onSubmit={submit}
      noValidate
      aria-label={creating ? 'New connection' : `Connection ${existing.name}`}
    >
      {creating ? (
        <>
          <div className="field">
            <label htmlFor="connection-type">
              Type<span className="required"> (required)</span>
            </label>
            <select
              id="connection-type"
              value={state.type}
              required
              aria-invalid={errors.type ? true : undefined}
              aria-describedby={describedBy(type && 'connection-type-hint', errors.type && 'connection-type-error')}
              onChange={(e) => chooseType(e.target.value)}
            >
              <option value="">Choose a type…</option>
              {types.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.title}
                </option>
              ))}
            </select>
            {type && (
              <p id="connection-type-hint" className="hint">
                {type.description}
              </p>
            )}
            <FieldError id="connection-type-error" message={errors.type} />
          </div>
          <div className="field">
            <label htmlFor="connection-name">
              Name<span className="required"> (required)</span>
            </label>
            <input
              id="connection-name"
              type="text"
              className="mono"
              value={state.name}
              required
              autoComplete="off"
              spellCheck={false}
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={describedBy('connection-name-hint', errors.name && 'connection-name-error')}
              onChange={(e) => setState((prev) => ({ ...prev, name: e.target.value }))}
            />
            <p id="connection-name-hint" className="hint">
              Steps use it as <code>connection: {state.name.trim() || 'name'}</code>. Letters, digits, _, - and ., up to 64.
            </p>
            <FieldError id="connection-name-error" message={errors.name} />
          </div>
        </>
      ) : (
        <p className="connection-form-type">
          {type?.title ?? existing.type} <span className="muted">· the type cannot change</span>
        </p>
      )}

      {type && (
        <>
          <fieldset className="connection-fieldset">
            <legend>{type.title} settings</legend>
            {oneOfLabels.length > 0 && (
              <p id={oneOfNoteId} className="hint connection-one-of">
                Set at least one of: {oneOfLabels.join(', ')}.
              </p>
            )}
            {type.fields.map((field) => (
              <ConnectionFieldInput
                key={field.name}
                field={field}
                state={state}
                existing={existing}
                error={errors[fieldKey(field.name)]}
                oneOfNoteId={type.one_of.includes(field.name) ? oneOfNoteId : undefined}
                onValue={(value) => setValue(field.name, value)}
                onClear={(clear) => setClear(field.name, clear)}
              />
            ))}
          </fieldset>

          <fieldset className="connection-fieldset" aria-describedby={describedBy(rateHintId, rateError && 'connection-rate-error')}>
            <legend>Rate limit</legend>
            <p id={rateHintId} className="hint">
              Shared by every workflow using this connection. Leave both empty for the type's default (
              {rateLimitInWords(type.rate_limit)}).
            </p>
            <div className="connection-rate">
              <div className="field">
                <label htmlFor="connection-rate-per-second">Calls per second</label>
                <input
                  id="connection-rate-per-second"
                  type="number"
                  min={0}
                  step="any"
                  inputMode="decimal"
                  value={state.perSecond}
                  placeholder={String(type.rate_limit.per_second)}
                  aria-invalid={perSecondError ? true : undefined}
                  aria-describedby={describedBy(perSecondError && 'connection-rate-per-second-error')}
                  onChange={(e) => setState((prev) => ({ ...prev, perSecond: e.target.value }))}
                />
                <FieldError id="connection-rate-per-second-error" message={perSecondError} />
              </div>
              <div className="field">
                <label htmlFor="connection-rate-burst">Burst</label>
                <input
                  id="connection-rate-burst"
                  type="number"
                  min={1}
                  step="any"
                  inputMode="decimal"
                  value={state.burst}
                  placeholder={String(type.rate_limit.burst)}
                  aria-invalid={burstError ? true : undefined}
                  aria-describedby={describedBy(burstError && 'connection-rate-burst-error')}
                  onChange={(e) => setState((prev) => ({ ...prev, burst: e.target.value }))}
                />
                <FieldError id="connection-rate-burst-error" message={burstError} />
              </div>
            </div>
            <FieldError id="connection-rate-error" message={rateError} />
          </fieldset>
        </>
      )}

      {problem && <ProblemAlert error={problem} action={creating ? 'Could not add the connection' : 'Could not save the connection'} />}
      <div className="button-row connection-form-buttons">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : creating ? 'Create connection' : 'Save changes'}
        </button>
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
