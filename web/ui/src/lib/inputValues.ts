// Turning the text of a run form into the typed values a workflow's inputs declare.
import type { ProblemError, WorkflowInput } from '../api/types';

export type FieldText = string | boolean;

export function initialFieldText(input: WorkflowInput): FieldText {
  if (input.type === 'boolean') return input.default === true;
  if (input.default === undefined || input.default === null) return '';
  if (input.type === 'object' || input.type === 'array') return JSON.stringify(input.default, null, 2);
  return String(input.default);
}

/** A number typed into a form, or why it is not one. */
export function numberFromText(text: string, integer: boolean): number | { error: string } {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    return { error: integer ? 'Enter a whole number.' : 'Enter a number.' };
  }
  return n;
}

export interface ParsedInputs {
  values: Record<string, unknown>;
  errors: Record<string, string>;
}

export function parseInputs(inputs: WorkflowInput[], texts: Record<string, FieldText>): ParsedInputs {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const input of inputs) {
    const raw = texts[input.name];
    if (input.type === 'boolean') {
      values[input.name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '') {
      // An empty optional field is left out, so the workflow's own default applies.
      if (input.required && input.default === undefined) errors[input.name] = 'Required.';
      continue;
    }
    switch (input.type) {
      case 'number':
      case 'integer': {
        const read = numberFromText(text, input.type === 'integer');
        if (typeof read === 'number') values[input.name] = read;
        else errors[input.name] = read.error;
        break;
      }
      case 'object':
      case 'array': {
        try {
          const parsed: unknown = JSON.parse(text);
          const ok = input.type === 'array' ? Array.isArray(parsed) : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
          if (ok) values[input.name] = parsed;
          else errors[input.name] = input.type === 'array' ? 'Enter a JSON list, e.g. ["a", "b"].' : 'Enter a JSON object, e.g. {"key": "value"}.';
        } catch {
          errors[input.name] = 'This is not valid JSON.';
        }
        break;
      }
      default:
        values[input.name] = text;
    }
  }
  return { values, errors };
}

/**
 * Server problems for the run form, by input name. The server names an input either in the
 * path (`inputs.target_cpa`) or, with path `inputs`, in backticks in the message.
 */
export function serverInputErrors(inputs: WorkflowInput[], errors: ProblemError[] | undefined): { byField: Record<string, string>; rest: ProblemError[] } {
  const byField: Record<string, string> = {};
  const rest: ProblemError[] = [];
  const names = new Set(inputs.map((i) => i.name));
  for (const error of errors ?? []) {
    const fromPath = /^inputs[.[/]"?([\w-]+)/.exec(error.path ?? '')?.[1];
    const fromMessage = error.path === 'inputs' ? /`([\w-]+)`/.exec(error.message)?.[1] : undefined;
    const name = fromPath ?? fromMessage;
    if (name && names.has(name)) byField[name] = byField[name] ? `${byField[name]} ${error.message}` : error.message;
    else rest.push(error);
  }
  return { byField, rest };
}
