// The wizard's form: what kind of field each template input becomes, its first value, and
// reading the typed text back into values of the declared type.
import type { WorkflowInput } from '../api/types';
import { initialFieldText, numberFromText, type FieldText } from './inputValues';
import { idFromName } from './wizardId';

export type FieldKind = 'connection' | 'slack_channel' | 'number' | 'integer' | 'boolean' | 'text' | 'kept';

const CONNECTION_TYPE_NAMES: Record<string, string> = {
  meta_ads: 'Meta Ads',
  google_ads: 'Google Ads',
  hubspot: 'HubSpot',
  ga4: 'Google Analytics 4',
  slack: 'Slack',
};

/** "meta_ads" → "Meta Ads"; unknown types are spelt out from their name. */
export function connectionTypeName(type: string): string {
  return CONNECTION_TYPE_NAMES[type] ?? type.split(/[_-]/).map((w) => (w ? w[0]?.toUpperCase() + w.slice(1) : w)).join(' ');
}

/** Whether a string input is a Slack channel (`channel`, `slack_channel`, or described as one). */
export function isSlackChannelInput(input: WorkflowInput): boolean {
  if (input.type !== 'string' || input.connection) return false;
  return /(^|_)channel$/.test(input.name) || /slack channel/i.test(input.description);
}

export function fieldKind(input: WorkflowInput): FieldKind {
  if (input.connection && input.type === 'string') return 'connection';
  if (isSlackChannelInput(input)) return 'slack_channel';
  switch (input.type) {
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'text';
    default:
      // Lists and objects keep the template's value; the YAML can be changed after saving.
      return 'kept';
  }
}

/** The label of an input's field: its description in plain words, else its name. */
export function fieldLabel(input: WorkflowInput): string {
  const text = input.description.trim();
  return text || input.name.replace(/_/g, ' ');
}

/** The wizard's fields hold what the run form's do: text, or a checkbox's state. */
export type FieldValue = FieldText;
export { initialFieldText as initialValue };

/**
 * The connection a connection field starts with: the template's default when a connection of
 * that name exists, else the only connection of the type, else the default as the template has it.
 */
export function initialConnection(input: WorkflowInput, names: string[]): string {
  const preferred = typeof input.default === 'string' ? input.default : '';
  if (preferred && names.includes(preferred)) return preferred;
  if (names.length === 1) return names[0] ?? '';
  return preferred;
}

const SLACK_CHANNEL = /^#[a-z0-9][a-z0-9._-]{0,79}$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

/** Why a Slack channel is not usable, or null. */
export function slackChannelProblem(value: string): string | null {
  const v = value.trim();
  if (v === '') return 'Enter a channel, e.g. #marketing-alerts.';
  if (SLACK_CHANNEL.test(v) || SLACK_CHANNEL_ID.test(v)) return null;
  if (!v.startsWith('#') && SLACK_CHANNEL.test(`#${v}`)) return `Start the channel with #, e.g. #${v}.`;
  return 'Slack channels are lowercase, without spaces: letters, digits, - and _, e.g. #marketing-alerts.';
}

export interface ParsedForm {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

/** Reads the form into typed values for every input the wizard sets (kept inputs are left out). */
export function parseWizardValues(inputs: WorkflowInput[], texts: Record<string, FieldValue>): ParsedForm {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const input of inputs) {
    const kind = fieldKind(input);
    if (kind === 'kept') continue;
    const raw = texts[input.name] ?? initialFieldText(input);
    if (kind === 'boolean') {
      values[input.name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    switch (kind) {
      case 'number':
      case 'integer': {
        const read = numberFromText(text, kind === 'integer');
        if (typeof read === 'number') values[input.name] = read;
        else errors[input.name] = read.error;
        break;
      }
      case 'connection':
        if (text === '') errors[input.name] = `Choose a ${connectionTypeName(input.connection ?? '')} connection.`;
        else values[input.name] = text;
        break;
      case 'slack_channel': {
        const problem = slackChannelProblem(text);
        if (problem) errors[input.name] = problem;
        else values[input.name] = text;
        break;
      }
      default:
        if (text === '' && input.required) errors[input.name] = 'Required.';
        else values[input.name] = typeof raw === 'string' && raw.includes('\n') ? raw : text;
    }
  }
  return { values, errors };
}

/** The default name of a workflow made from `templateName`: "My CPA guardrail", whose id is not taken. */
export function suggestedName(templateName: string, takenIds: Iterable<string>): string {
  const taken = new Set(takenIds);
  const base = `My ${templateName.trim() || 'workflow'}`;
  if (!taken.has(idFromName(base))) return base;
  for (let n = 2; ; n++) if (!taken.has(idFromName(`${base} ${n}`))) return `${base} ${n}`;
}
