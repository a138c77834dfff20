import type { ReactNode } from 'react';
import type { WorkflowInput } from '../api/types';
import type { Connection } from '../api/connections';
import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { connectionTypeName, fieldKind, fieldLabel, type FieldValue } from '../lib/wizardForm';
import { WORKFLOW_ID_RULE } from '../lib/wizardId';

interface WizardSettingsFormProps {
  inputs: WorkflowInput[];
  values: Record<string, FieldValue>;
  errors: Record<string, string>;
  onChange: (name: string, value: FieldValue) => void;
  /** The stored connections; undefined while they load. */
  connections: Connection[] | undefined;
  /** Why the connections cannot be listed (no permission, no master key...), if so. */
  connectionsProblem?: string | null;
  name: string;
  id: string;
  nameError?: string | null;
  idError?: string | null;
  /** Once saved, the id can no longer change. */
  idLocked?: boolean;
  onNameChange: (name: string) => void;
  onIdChange: (id: string) => void;
  /** The schedule fieldset. */
  schedule?: ReactNode;
}

function describedBy(...ids: (string | false | null | undefined)[]): string | undefined {
  const list = ids.filter(Boolean).join(' ');
  return list || undefined;
}

function ConnectionField({
  input,
  value,
  error,
  connections,
  problem,
  onChange,
}: {
  input: WorkflowInput;
  value: string;
  error?: string;
  connections: Connection[] | undefined;
  problem?: string | null;
  onChange: (value: string) => void;
}) {
  const id = `wizard-input-${input.name}`;
  const type = input.connection ?? '';
  const typeName = connectionTypeName(type);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;

  if (problem || connections === undefined) {
    // The list is not available: the name can still be typed.
    return (
      <div className="field">
        <label htmlFor={id}>{fieldLabel(input)}</label>
        <input id={id} type="text" value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={describedBy(hintId, error && errorId)} />
        <p id={hintId} className="hint">
          {connections === undefined && !problem ? 'Loading the connections…' : `The name of a ${typeName} connection. ${problem ?? ''}`}
        </p>
        {error && (
          <p id={errorId} className="field-error">
            {error}
          </p>
        )}
      </div>
    );
  }

  const ofType = connections.filter((c) => c.type === type);
  const known = ofType.some((c) => c.name === value);
  return (
    <div className="field">
      <label htmlFor={id}>{fieldLabel(input)}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error || (!known && value) ? true : undefined} aria-describedby={describedBy(hintId, error && errorId)}>
        {!known && <option value={value}>{value ? `${value} (no such connection)` : `Choose a ${typeName} connection`}</option>}
        {ofType.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
          </option>
        ))}
      </select>
      {ofType.length === 0 ? (
        <p id={hintId} className="hint wizard-hint-warn">
          There is no {typeName} connection yet. <Link to={paths.connections()}>Add one on the Connections page</Link>, then come back: this form keeps
          its place only until you leave it.
        </p>
      ) : !known ? (
        <p id={hintId} className="hint wizard-hint-warn">
          The template names {value ? `“${value}”` : 'no connection'}, which does not exist here: choose one of your {typeName} connections.
        </p>
      ) : (
        <p id={hintId} className="hint">
          A {typeName} connection ({ofType.length} available).
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

function InputField({ input, value, error, onChange }: { input: WorkflowInput; value: FieldValue; error?: string; onChange: (value: FieldValue) => void }) {
  const id = `wizard-input-${input.name}`;
  const hintId = `${id}-hint`;
  const unitId = `${id}-unit`;
  const errorId = `${id}-error`;
  const kind = fieldKind(input);

  if (kind === 'boolean') {
    return (
      <div className="field field-check">
        <label htmlFor={id} className="checkbox">
          <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {fieldLabel(input)}
        </label>
        <p id={hintId} className="hint mono">
          {input.name}
        </p>
      </div>
    );
  }
  if (kind === 'kept') {
    return (
      <div className="field">
        <p className="wizard-kept-label">{fieldLabel(input)}</p>
        <p className="hint">Kept as in the template (a {input.type === 'array' ? 'list' : 'set of values'}): change it in the YAML after saving.</p>
      </div>
    );
  }

  const text = typeof value === 'string' ? value : '';
  const numeric = kind === 'number' || kind === 'integer';
  const multiline = kind === 'text' && text.includes('\n');
  const common = {
    id,
    value: text,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy(input.unit && unitId, hintId, error && errorId),
  };
  return (
    <div className="field">
      <label htmlFor={id}>{fieldLabel(input)}</label>
      <div className="field-with-unit">
        {multiline ? (
          <textarea {...common} rows={5} className="mono" onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input
            {...common}
            type={numeric ? 'number' : 'text'}
            step={kind === 'integer' ? 1 : numeric ? 'any' : undefined}
            inputMode={kind === 'integer' ? 'numeric' : kind === 'number' ? 'decimal' : undefined}
            placeholder={kind === 'slack_channel' ? '#marketing-alerts' : undefined}
            spellCheck={kind === 'slack_channel' ? false : undefined}
            onChange={(e) => onChange(e.target.value)}
          />
        )}
        {input.unit && (
          <span id={unitId} className="unit">
            {input.unit}
          </span>
        )}
      </div>
      <p id={hintId} className="hint">
        {kind === 'slack_channel' ? 'The Slack channel to post in, starting with #. ' : ''}
        <span className="mono">{input.name}</span>
      </p>
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The wizard's settings: the new workflow's name and id, one field per template input, the schedule. */
export function WizardSettingsForm(props: WizardSettingsFormProps) {
  const { inputs, values, errors, onChange, connections, connectionsProblem } = props;
  const connectionInputs = inputs.filter((i) => fieldKind(i) === 'connection');
  const otherInputs = inputs.filter((i) => fieldKind(i) !== 'connection');

  return (
    <form className="wizard-form" aria-label="Workflow settings" noValidate onSubmit={(e) => e.preventDefault()}>
      <fieldset className="wizard-fieldset">
        <legend>Name</legend>
        <div className="field">
          <label htmlFor="wizard-name">Workflow name</label>
          <input
            id="wizard-name"
            type="text"
            value={props.name}
            onChange={(e) => props.onNameChange(e.target.value)}
            aria-invalid={props.nameError ? true : undefined}
            aria-describedby={props.nameError ? 'wizard-name-error' : undefined}
          />
          {props.nameError && (
            <p id="wizard-name-error" className="field-error">
              {props.nameError}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="wizard-id">Workflow id</label>
          <input
            id="wizard-id"
            type="text"
            className="mono"
            value={props.id}
            readOnly={props.idLocked}
            spellCheck={false}
            autoCapitalize="off"
            onChange={(e) => props.onIdChange(e.target.value)}
            aria-invalid={props.idError ? true : undefined}
            aria-describedby={describedBy('wizard-id-hint', props.idError && 'wizard-id-error')}
          />
          <p id="wizard-id-hint" className="hint">
            {props.idLocked ? 'Saved under this id for the dry run; it can no longer change.' : `Made from the name. ${WORKFLOW_ID_RULE}`}
          </p>
          {props.idError && (
            <p id="wizard-id-error" className="field-error">
              {props.idError}
            </p>
          )}
        </div>
      </fieldset>

      {connectionInputs.length > 0 && (
        <fieldset className="wizard-fieldset">
          <legend>Connections</legend>
          {connectionInputs.map((input) => (
            <ConnectionField
              key={input.name}
              input={input}
              value={typeof values[input.name] === 'string' ? (values[input.name] as string) : ''}
              error={errors[input.name]}
              connections={connections}
              problem={connectionsProblem}
              onChange={(value) => onChange(input.name, value)}
            />
          ))}
        </fieldset>
      )}

      {otherInputs.length > 0 && (
        <fieldset className="wizard-fieldset">
          <legend>Settings</legend>
          {otherInputs.map((input) => (
            <InputField key={input.name} input={input} value={values[input.name] ?? ''} error={errors[input.name]} onChange={(value) => onChange(input.name, value)} />
          ))}
        </fieldset>
      )}

      {props.schedule}
    </form>
  );
}
