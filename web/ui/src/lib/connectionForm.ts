// The add/edit connection form without React: its state, the checks made before sending, the
// request body, and where the server's errors go. Error keys are the API's paths (`name`, `type`,
// `fields.<field>`, `rate_limit.per_second`, `rate_limit.burst`, `rate_limit`) so client and
// server errors land in the same place.
import type { Connection, ConnectionField, ConnectionInput, ConnectionType, RateLimit } from '../api/connections';
import type { ProblemError } from '../api/types';

export interface ConnectionFormState {
  name: string;
  type: string;
  /** The text of every field. Secret fields start empty: their values are never sent back. */
  values: Record<string, string>;
  /** Secret fields set on the server that the user chose to clear (edit only). */
  clear: Record<string, boolean>;
  perSecond: string;
  burst: string;
}

export type FormErrors = Record<string, string>;

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const URL_PATTERN = /^https?:\/\/[^\s/?#]+/i;
const DIGITS_PATTERN = /^[0-9]+$/;

export const fieldKey = (field: string) => `fields.${field}`;

export function emptyFormState(typeName = ''): ConnectionFormState {
  return { name: '', type: typeName, values: {}, clear: {}, perSecond: '', burst: '' };
}

/** The form for a new connection of `type`, or for changing `existing`. */
export function initialFormState(type: ConnectionType | undefined, existing?: Connection): ConnectionFormState {
  const state = emptyFormState(existing?.type ?? type?.name ?? '');
  state.name = existing?.name ?? '';
  for (const field of type?.fields ?? []) {
    state.values[field.name] = field.secret ? '' : (existing?.fields[field.name] ?? '');
  }
  if (existing && !existing.rate_limit_default) {
    state.perSecond = String(existing.rate_limit.per_second);
    state.burst = String(existing.rate_limit.burst);
  }
  return state;
}

/** Whether a secret field holds a value on the server. */
export function secretIsSet(existing: Connection | undefined, field: string): boolean {
  return existing?.secret_fields_set.includes(field) ?? false;
}

function willHaveValue(field: ConnectionField, state: ConnectionFormState, existing?: Connection): boolean {
  const text = state.values[field.name] ?? '';
  if (field.secret) return text !== '' || (secretIsSet(existing, field.name) && !state.clear[field.name]);
  return text.trim() !== '';
}

/** A field the form must ask for: required, and without a stored secret to keep. */
export function needsInput(field: ConnectionField, existing?: Connection): boolean {
  return field.required && field.default === undefined && !(field.secret && secretIsSet(existing, field.name));
}

function parseNumber(text: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : Number.NaN;
}

export interface BuildResult {
  input: ConnectionInput | null;
  errors: FormErrors;
}

/**
 * The body for POST (no `existing`) or PUT (`existing`): on create every field with a value; on
 * edit only what changed, a secret left empty is kept (left out), a cleared one is sent as null.
 */
export function buildConnectionInput(type: ConnectionType | undefined, state: ConnectionFormState, existing?: Connection): BuildResult {
  const errors: FormErrors = {};
  const editing = existing !== undefined;

  if (!editing) {
    if (!state.name.trim()) errors.name = 'Required.';
    else if (!NAME_PATTERN.test(state.name.trim()))
      errors.name = 'Use 1 to 64 letters, digits, _, - or ., starting with a letter or digit.';
  }
  if (!type) {
    errors.type = 'Choose a type.';
    return { input: null, errors };
  }

  const fields: Record<string, string | null> = {};
  for (const field of type.fields) {
    const key = fieldKey(field.name);
    const raw = state.values[field.name] ?? '';
    const text = field.secret ? raw : raw.trim();

    if (field.required && field.default === undefined && !willHaveValue(field, state, existing)) {
      errors[key] = 'Required.';
      continue;
    }
    if (text !== '') {
      if (field.kind === 'digits' && !DIGITS_PATTERN.test(text)) errors[key] = 'Digits only (0-9).';
      else if (field.kind === 'url' && !URL_PATTERN.test(text)) errors[key] = 'Enter an http:// or https:// address.';
      else if (field.kind === 'choice' && field.choices && !field.choices.includes(text))
        errors[key] = `Choose one of ${field.choices.join(', ')}.`;
    }

    if (!editing) {
      if (text !== '') fields[field.name] = text;
    } else if (field.secret) {
      if (state.clear[field.name] && secretIsSet(existing, field.name)) fields[field.name] = null;
      else if (text !== '') fields[field.name] = text;
    } else {
      const before = existing.fields[field.name] ?? '';
      if (text !== before) fields[field.name] = text === '' ? null : text;
    }
  }

  if (type.one_of.length > 0) {
    const byName = new Map(type.fields.map((f) => [f.name, f]));
    const any = type.one_of.some((name) => {
      const field = byName.get(name);
      return field ? willHaveValue(field, state, existing) : false;
    });
    const first = type.one_of[0];
    if (!any && first && !errors[fieldKey(first)]) {
      const labels = type.one_of.map((name) => byName.get(name)?.label ?? name);
      errors[fieldKey(first)] = `Set ${labels.join(' or ')}.`;
    }
  }

  let rateLimit: RateLimit | undefined;
  const perSecond = parseNumber(state.perSecond);
  const burst = parseNumber(state.burst);
  if (perSecond === null && burst === null) {
    // Back to the type's default. The API has no way to say "default" once a connection has its
    // own limit, so the default's numbers are sent.
    if (editing && !existing.rate_limit_default) rateLimit = { ...type.rate_limit };
  } else if (perSecond === null) {
    errors['rate_limit.per_second'] = 'Enter calls per second too, or leave both empty.';
  } else if (burst === null) {
    errors['rate_limit.burst'] = 'Enter a burst too, or leave both empty.';
  } else {
    if (Number.isNaN(perSecond) || perSecond < 0) errors['rate_limit.per_second'] = 'A number, 0 or more (0: unlimited).';
    if (Number.isNaN(burst) || burst < 1) errors['rate_limit.burst'] = 'A number, 1 or more.';
    const changed =
      !editing || existing.rate_limit_default || existing.rate_limit.per_second !== perSecond || existing.rate_limit.burst !== burst;
    if (changed) rateLimit = { per_second: perSecond, burst };
  }

  if (Object.keys(errors).length > 0) return { input: null, errors };

  const input: ConnectionInput = editing ? { fields } : { name: state.name.trim(), type: type.name, fields };
  if (rateLimit) input.rate_limit = rateLimit;
  return { input, errors };
}

/** The form's places for errors: name and type (create only), each field, the rate limit. */
export function errorKeys(type: ConnectionType | undefined, creating: boolean): Set<string> {
  const keys = new Set(['rate_limit', 'rate_limit.per_second', 'rate_limit.burst']);
  if (creating) {
    keys.add('name');
    keys.add('type');
  }
  for (const field of type?.fields ?? []) keys.add(fieldKey(field.name));
  return keys;
}

/** Splits a problem's `errors[]` into those shown beside a control and the rest. */
export function placeServerErrors(errors: ProblemError[] | undefined, keys: Set<string>): { byField: FormErrors; rest: ProblemError[] } {
  const byField: FormErrors = {};
  const rest: ProblemError[] = [];
  for (const error of errors ?? []) {
    const path = error.path ?? '';
    if (keys.has(path)) byField[path] = byField[path] ? `${byField[path]} ${error.message}` : error.message;
    else rest.push(error);
  }
  return { byField, rest };
}

/** "5 calls/s, burst 10", or "unlimited". */
export function rateLimitInWords(limit: RateLimit): string {
  if (limit.per_second === 0) return 'unlimited';
  const calls = limit.per_second === 1 ? 'call' : 'calls';
  return `${limit.per_second} ${calls}/s, burst ${limit.burst}`;
}
