// Targeted edits of a template's YAML text: the wizard changes a few values (id, name, input
// defaults, the schedule, the webhook path) and leaves every other character, comments
// included, as the template has it. These are line-based edits of the block style the templates
// in workflows/ use (with one-line flow mappings such as `{type: number, default: 40}`), not a
// YAML parser: an edit the text does not allow is reported instead of guessed.

const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~)$/i;
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@`]/;

/** Whether `s` can be written as a plain (unquoted) YAML scalar that reads back as this string. */
export function isPlainSafe(s: string, flow = false): boolean {
  if (s === '' || s !== s.trim()) return false;
  if (/[\u0000-\u001f\u007f]/.test(s)) return false;
  if (INDICATOR_START.test(s)) return false;
  if (s.includes(': ') || s.includes(' #') || s.endsWith(':')) return false;
  if (flow && /[,[\]{}]/.test(s)) return false;
  if (RESERVED.test(s)) return false;
  if (/^[-+.]?\d/.test(s) || /^[-+]?\.(inf|nan)$/i.test(s)) return false;
  return true;
}

/** A double-quoted YAML scalar (JSON string syntax is valid YAML). */
export function quoteYaml(s: string): string {
  return JSON.stringify(s);
}

/** A value written on one line: plain where that reads back the same, quoted otherwise. */
export function yamlScalar(value: unknown, flow = false): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : quoteYaml(String(value));
  if (typeof value === 'string') return isPlainSafe(value, flow) ? value : quoteYaml(value);
  if (Array.isArray(value)) return `[${value.map((v) => yamlScalar(v, true)).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${yamlScalar(k, true)}: ${yamlScalar(v, true)}`);
    return `{${entries.join(', ')}}`;
  }
  return quoteYaml(String(value));
}

/** Splits the text after `key:` into the value and what follows it (spaces and a comment). */
export function splitValueComment(rest: string): { value: string; tail: string } {
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = null;
      continue;
    }
    if (quote === "'") {
      if (c === "'") {
        if (rest[i + 1] === "'") i++;
        else quote = null;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      // A quote opens a quoted scalar only where a scalar starts (`it's` is plain text).
      const before = rest.slice(0, i).trim();
      if (before === '' || /[[{,:]$/.test(before)) quote = c;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(rest[i - 1] ?? ''))) {
      const value = rest.slice(0, i).replace(/\s+$/, '');
      return { value, tail: rest.slice(value.length) };
    }
  }
  const value = rest.replace(/\s+$/, '');
  return { value, tail: rest.slice(value.length) };
}

function indentOf(line: string): number {
  return /^ */.exec(line)?.[0].length ?? 0;
}

function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

const KEY_LINE = /^(\s*)((?:-\s+)?)([A-Za-z_][\w-]*|"[^"]*"|'[^']*'):(?=\s|$)(.*)$/;

interface KeyLine {
  indent: number;
  /** Column of the key (after a list dash, if any). */
  keyColumn: number;
  key: string;
  /** Everything after the colon. */
  rest: string;
  /** The line up to and including the colon. */
  head: string;
}

function readKeyLine(line: string): KeyLine | null {
  const m = KEY_LINE.exec(line);
  if (!m) return null;
  const [, spaces = '', dash = '', rawKey = '', rest = ''] = m;
  const key = rawKey.replace(/^["']|["']$/g, '');
  return { indent: spaces.length, keyColumn: spaces.length + dash.length, key, rest, head: line.slice(0, line.length - rest.length) };
}

/** Index of the top-level `key:` line, or -1. */
function findTopLevel(lines: string[], key: string): number {
  return lines.findIndex((line) => {
    if (indentOf(line) !== 0) return false;
    const k = readKeyLine(line);
    return k !== null && k.key === key;
  });
}

/** The end (exclusive) of the block that belongs to the key on line `start` at `indent`. */
function blockEnd(lines: string[], start: number, indent: number): number {
  let end = start + 1;
  let lastContent = start;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    if (indentOf(line) <= indent) {
      // Comments at the block's own indent or less belong to what follows.
      break;
    }
    lastContent = i;
  }
  end = lastContent + 1;
  return end;
}

/** Whether the value after a key starts a block scalar (`|`, `>-`...) or is empty (a nested block). */
function opensBlock(value: string): boolean {
  return value === '' || /^[|>][-+0-9]*$/.test(value);
}

/**
 * Sets the value of the `key:` on line `index`, keeping its trailing comment; a block scalar or
 * nested block that held the old value is removed. `valueLines` are extra lines for a block scalar.
 */
function setValueAt(lines: string[], index: number, value: string, valueLines: string[] = [], comment?: (old: string) => string): void {
  const line = lines[index] ?? '';
  const k = readKeyLine(line);
  if (!k) return;
  const { value: old, tail } = splitValueComment(k.rest);
  let newTail = tail;
  if (comment && tail.includes('#')) {
    const at = tail.indexOf('#');
    newTail = `${tail.slice(0, at)}# ${comment(tail.slice(at + 1).trim())}`;
  }
  let removeTo = index + 1;
  if (opensBlock(old.trim())) removeTo = blockEnd(lines, index, k.keyColumn);
  lines.splice(index, removeTo - index, `${k.head} ${value}${newTail}`, ...valueLines);
}

interface FlowEntry {
  key: string;
  start: number;
  end: number;
  valueStart: number;
}

/** The top-level entries of a one-line flow mapping `{a: 1, b: [x, y]}` starting at `open`. */
function flowEntries(text: string, open: number): { entries: FlowEntry[]; close: number } | null {
  const entries: FlowEntry[] = [];
  let depth = 0;
  let quote: string | null = null;
  let entryStart = open + 1;
  let colon = -1;
  const finish = (end: number) => {
    const raw = text.slice(entryStart, end);
    if (raw.trim() === '') return;
    const keyEnd = colon >= 0 ? colon : end;
    const key = text.slice(entryStart, keyEnd).trim().replace(/^["']|["']$/g, '');
    let valueStart = colon >= 0 ? colon + 1 : end;
    while (valueStart < end && text[valueStart] === ' ') valueStart++;
    let stop = end;
    while (stop > valueStart && text[stop - 1] === ' ') stop--;
    entries.push({ key, start: entryStart, end: stop, valueStart });
  };
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = null;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      const before = text.slice(entryStart, i).trim();
      if (before === '' || before.endsWith(':') || /[[{,]$/.test(before)) quote = c;
      continue;
    }
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || (c === '}' && depth > 0)) depth--;
    else if (c === '}' && depth === 0) {
      finish(i);
      return { entries, close: i };
    } else if (c === ',' && depth === 0) {
      finish(i);
      entryStart = i + 1;
      colon = -1;
    } else if (c === ':' && depth === 0 && colon < 0 && /[\s]/.test(text[i + 1] ?? ' ')) {
      colon = i;
    }
  }
  return null;
}

/** Sets (or adds) `key` in the one-line flow mapping on `line` that opens at `open`; null if it cannot. */
function flowSet(line: string, open: number, key: string, value: string, replaceKey?: string): string | null {
  const parsed = flowEntries(line, open);
  if (!parsed) return null;
  const existing = parsed.entries.find((e) => e.key === key) ?? (replaceKey ? parsed.entries.find((e) => e.key === replaceKey) : undefined);
  if (existing) {
    if (existing.key === key) return line.slice(0, existing.valueStart) + value + line.slice(existing.end);
    return `${line.slice(0, existing.start)}${line[existing.start] === ' ' ? ' ' : ''}${key}: ${value}${line.slice(existing.end)}`;
  }
  const last = parsed.entries[parsed.entries.length - 1];
  if (!last) return `${line.slice(0, open + 1)}${key}: ${value}${line.slice(parsed.close)}`;
  return `${line.slice(0, last.end)}, ${key}: ${value}${line.slice(last.end)}`;
}

/** The indices of the direct children (`key:` lines) of the block key on line `index`. */
function children(lines: string[], index: number, keyColumn: number): { index: number; key: KeyLine }[] {
  const end = blockEnd(lines, index, keyColumn);
  const result: { index: number; key: KeyLine }[] = [];
  let childIndent = -1;
  for (let i = index + 1; i < end; i++) {
    const line = lines[i] ?? '';
    if (isBlankOrComment(line)) continue;
    const indent = indentOf(line);
    if (childIndent < 0) childIndent = indent;
    if (indent !== childIndent) continue;
    const k = readKeyLine(line);
    if (k && k.keyColumn === indent) result.push({ index: i, key: k });
  }
  return result;
}

export type EditResult = { text: string; applied: boolean };

function splitLines(text: string): { lines: string[]; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return { lines: text.split(/\r?\n/), eol };
}

/** Sets a top-level key (`id`, `name`), adding it after `after` (or first) when missing. */
export function setTopLevel(text: string, key: string, value: string, after?: string): EditResult {
  const { lines, eol } = splitLines(text);
  const index = findTopLevel(lines, key);
  if (index >= 0) {
    setValueAt(lines, index, value);
    return { text: lines.join(eol), applied: true };
  }
  const anchor = after ? findTopLevel(lines, after) : -1;
  const insertAt = anchor >= 0 ? blockEnd(lines, anchor, 0) : 0;
  lines.splice(insertAt, 0, `${key}: ${value}`);
  return { text: lines.join(eol), applied: true };
}

export function setWorkflowId(text: string, id: string): EditResult {
  return setTopLevel(text, 'id', yamlScalar(id));
}

export function setWorkflowName(text: string, name: string): EditResult {
  return setTopLevel(text, 'name', yamlScalar(name), 'id');
}

/** A block scalar for a multi-line string in block context: `|` or `|-` with its lines. */
function blockScalar(value: string, indent: number): { head: string; lines: string[] } | null {
  if (/^\s/.test(value) || /[\u0000-\u0008\u000b-\u001f]/.test(value)) return null;
  const keepsNewline = value.endsWith('\n');
  const body = keepsNewline ? value.slice(0, -1) : value;
  if (body.endsWith('\n')) return null; // several trailing newlines need `|+`; quote instead
  const pad = ' '.repeat(indent);
  return { head: keepsNewline ? '|' : '|-', lines: body.split('\n').map((l) => (l === '' ? '' : pad + l)) };
}

/** Sets the `default:` of input `name` (block or one-line flow style). */
export function setInputDefault(text: string, name: string, value: unknown): EditResult {
  const { lines, eol } = splitLines(text);
  const inputsAt = findTopLevel(lines, 'inputs');
  if (inputsAt < 0) return { text, applied: false };
  const input = children(lines, inputsAt, 0).find((c) => c.key.key === name);
  if (!input) return { text, applied: false };
  const { value: own } = splitValueComment(input.key.rest);
  const trimmed = own.trim();
  if (trimmed.startsWith('{')) {
    const line = lines[input.index] ?? '';
    const open = line.indexOf('{', input.key.head.length);
    const updated = flowSet(line, open, 'default', yamlScalar(value, true), 'required');
    if (updated === null) return { text, applied: false };
    lines[input.index] = updated;
    return { text: lines.join(eol), applied: true };
  }
  if (trimmed !== '') return { text, applied: false };
  const fields = children(lines, input.index, input.key.keyColumn);
  const childIndent = fields[0]?.key.keyColumn ?? input.key.keyColumn + 2;
  let scalar = yamlScalar(value);
  let extra: string[] = [];
  if (typeof value === 'string' && value.includes('\n')) {
    const block = blockScalar(value, childIndent + 2);
    if (block) {
      scalar = block.head;
      extra = block.lines;
    }
  }
  const existing = fields.find((f) => f.key.key === 'default') ?? fields.find((f) => f.key.key === 'required');
  if (existing) {
    if (existing.key.key === 'required') {
      // A default and `required: true` do not go together: the default takes its place.
      const { tail } = splitValueComment(existing.key.rest);
      lines.splice(existing.index, 1, `${' '.repeat(childIndent)}default: ${scalar}${tail}`, ...extra);
    } else {
      setValueAt(lines, existing.index, scalar, extra);
    }
    return { text: lines.join(eol), applied: true };
  }
  const end = blockEnd(lines, input.index, input.key.keyColumn);
  lines.splice(end, 0, `${' '.repeat(childIndent)}default: ${scalar}`, ...extra);
  return { text: lines.join(eol), applied: true };
}

interface TriggerItem {
  /** Line of the item's dash. */
  index: number;
  /** Column of the dash. */
  dash: number;
  /** Column of the item's keys. */
  keyColumn: number;
  kind: string;
  /** End (exclusive) of the item's lines. */
  end: number;
  flow: boolean;
}

function triggerItems(lines: string[]): { at: number; end: number; items: TriggerItem[] } | null {
  const at = findTopLevel(lines, 'triggers');
  if (at < 0) return null;
  const end = blockEnd(lines, at, 0);
  const items: TriggerItem[] = [];
  let dash = -1;
  for (let i = at + 1; i < end; i++) {
    const line = lines[i] ?? '';
    if (isBlankOrComment(line)) continue;
    const m = /^(\s*)-(\s+)(.*)$/.exec(line);
    const indent = indentOf(line);
    if (!m || (dash >= 0 && indent !== dash)) continue;
    dash = indent;
    const content = m[3] ?? '';
    const flow = content.startsWith('{');
    const kind = flow ? (/^\{\s*([\w-]+)\s*:/.exec(content)?.[1] ?? '') : (readKeyLine(line)?.key ?? '');
    items.push({ index: i, dash: indent, keyColumn: indent + 1 + (m[2]?.length ?? 1), kind, end: end, flow });
  }
  items.forEach((item, n) => {
    const next = items[n + 1];
    let stop = next ? next.index : end;
    // Leave blank lines and comments just before the next item to it.
    while (stop - 1 > item.index && isBlankOrComment(lines[stop - 1] ?? '')) stop--;
    item.end = stop;
  });
  return { at, end, items };
}

export interface CronSetting {
  cron: string;
  timezone: string;
  /** Replaces the text of a comment on the cron line, which usually says the schedule in words. */
  words?: string;
}

/** The first cron trigger's expression and zone as the template writes them, or null. */
export function readCronTrigger(text: string): { cron: string; timezone: string } | null {
  const { lines } = splitLines(text);
  const found = triggerItems(lines);
  const item = found?.items.find((i) => i.kind === 'cron');
  if (!found || !item) return null;
  const unquote = (v: string) => {
    const t = v.trim();
    if (t.startsWith('"')) {
      try {
        return JSON.parse(t) as string;
      } catch {
        return t.slice(1, -1);
      }
    }
    return t.startsWith("'") ? t.slice(1, -1).replace(/''/g, "'") : t;
  };
  if (item.flow) {
    const line = lines[item.index] ?? '';
    const parsed = flowEntries(line, line.indexOf('{'));
    const get = (k: string) => {
      const e = parsed?.entries.find((x) => x.key === k);
      return e ? unquote(line.slice(e.valueStart, e.end)) : undefined;
    };
    return { cron: get('cron') ?? '', timezone: get('timezone') ?? 'UTC' };
  }
  let cron = '';
  let timezone = 'UTC';
  for (let i = item.index; i < item.end; i++) {
    const k = readKeyLine(lines[i] ?? '');
    if (!k || k.keyColumn !== item.keyColumn) continue;
    if (k.key === 'cron') cron = unquote(splitValueComment(k.rest).value);
    if (k.key === 'timezone') timezone = unquote(splitValueComment(k.rest).value);
  }
  return { cron, timezone };
}

/** Sets the first cron trigger's expression and zone; adds a cron trigger when there is none. */
export function setCronTrigger(text: string, setting: CronSetting): EditResult {
  const { lines, eol } = splitLines(text);
  const cron = quoteYaml(setting.cron);
  const zone = yamlScalar(setting.timezone);
  const found = triggerItems(lines);
  const item = found?.items.find((i) => i.kind === 'cron');
  if (found && item) {
    if (item.flow) {
      const line = lines[item.index] ?? '';
      let updated = flowSet(line, line.indexOf('{'), 'cron', cron);
      updated = updated === null ? null : flowSet(updated, updated.indexOf('{'), 'timezone', yamlScalar(setting.timezone, true));
      if (updated === null) return { text, applied: false };
      lines[item.index] = updated;
      return { text: lines.join(eol), applied: true };
    }
    let zoneLine = -1;
    for (let i = item.index + 1; i < item.end; i++) {
      const k = readKeyLine(lines[i] ?? '');
      if (k && k.keyColumn === item.keyColumn && indentOf(lines[i] ?? '') === item.keyColumn && k.key === 'timezone') zoneLine = i;
    }
    if (zoneLine >= 0) setValueAt(lines, zoneLine, zone);
    setValueAt(lines, item.index, cron, [], setting.words ? () => setting.words ?? '' : undefined);
    if (zoneLine < 0) lines.splice(item.index + 1, 0, `${' '.repeat(item.keyColumn)}timezone: ${zone}`);
    return { text: lines.join(eol), applied: true };
  }
  const comment = setting.words ? `  # ${setting.words}` : '';
  if (found) {
    const first = found.items[0];
    const dash = first ? first.dash : 2;
    const pad = ' '.repeat(dash);
    const newItem = [`${pad}- cron: ${cron}${comment}`, `${pad}  timezone: ${zone}`, `${pad}  catch_up: latest`];
    const triggersLine = lines[found.at] ?? '';
    const own = splitValueComment(readKeyLine(triggersLine)?.rest ?? '').value.trim();
    if (own === '[]') {
      lines[found.at] = 'triggers:';
      lines.splice(found.at + 1, 0, ...newItem);
      return { text: lines.join(eol), applied: true };
    }
    if (own !== '') return { text, applied: false };
    lines.splice(found.end, 0, ...newItem);
    return { text: lines.join(eol), applied: true };
  }
  let insertAt = findTopLevel(lines, 'steps');
  if (insertAt < 0) insertAt = lines.length;
  while (insertAt > 0 && (lines[insertAt - 1] ?? '').startsWith('#')) insertAt--;
  lines.splice(insertAt, 0, 'triggers:', `  - cron: ${cron}${comment}`, `    timezone: ${zone}`, '    catch_up: latest');
  return { text: lines.join(eol), applied: true };
}

/** Removes the cron trigger(s); removes `triggers:` too when nothing is left in it. */
export function removeCronTrigger(text: string): EditResult {
  const { lines, eol } = splitLines(text);
  const found = triggerItems(lines);
  if (!found) return { text, applied: true };
  const crons = found.items.filter((i) => i.kind === 'cron');
  if (crons.length === 0) return { text, applied: true };
  if (crons.length === found.items.length) {
    lines.splice(found.at, found.end - found.at);
    return { text: lines.join(eol), applied: true };
  }
  for (const item of [...crons].reverse()) lines.splice(item.index, item.end - item.index);
  return { text: lines.join(eol), applied: true };
}

/** Sets the `path` of the first webhook trigger (its URL becomes /hooks/<path>). */
export function setWebhookPath(text: string, path: string): EditResult {
  const { lines, eol } = splitLines(text);
  const found = triggerItems(lines);
  const item = found?.items.find((i) => i.kind === 'webhook');
  if (!found || !item) return { text, applied: false };
  for (let i = item.index; i < item.end; i++) {
    const line = lines[i] ?? '';
    const open = line.indexOf('{');
    if (open >= 0 && /\bpath\s*:/.test(line.slice(open))) {
      const updated = flowSet(line, open, 'path', yamlScalar(path, true));
      if (updated === null) return { text, applied: false };
      lines[i] = updated;
      return { text: lines.join(eol), applied: true };
    }
    const k = i === item.index ? null : readKeyLine(line);
    if (k && k.key === 'path' && k.keyColumn > item.keyColumn) {
      setValueAt(lines, i, yamlScalar(path));
      return { text: lines.join(eol), applied: true };
    }
  }
  return { text, applied: false };
}

/** Whether the template has a webhook trigger (whose path the wizard makes unique). */
export function hasWebhookTrigger(text: string): boolean {
  const found = triggerItems(splitLines(text).lines);
  return Boolean(found?.items.some((i) => i.kind === 'webhook'));
}

export interface WizardEdits {
  id: string;
  name: string;
  /** Input name → the new default. */
  defaults: Record<string, unknown>;
  /** A schedule to set; null removes the cron trigger; undefined leaves the triggers alone. */
  schedule?: CronSetting | null;
  /** A new path for the webhook trigger, if the template has one. */
  webhookPath?: string;
}

/** The new workflow's YAML: the template text with the wizard's values, plus what could not be changed. */
export function buildWorkflowYaml(template: string, edits: WizardEdits): { text: string; notApplied: string[] } {
  const notApplied: string[] = [];
  let text = setWorkflowId(template, edits.id).text;
  text = setWorkflowName(text, edits.name).text;
  for (const [name, value] of Object.entries(edits.defaults)) {
    const result = setInputDefault(text, name, value);
    if (result.applied) text = result.text;
    else notApplied.push(`the default of input ${name}`);
  }
  if (edits.schedule === null) {
    text = removeCronTrigger(text).text;
  } else if (edits.schedule) {
    const result = setCronTrigger(text, edits.schedule);
    if (result.applied) text = result.text;
    else notApplied.push('the schedule');
  }
  if (edits.webhookPath !== undefined && hasWebhookTrigger(text)) {
    const result = setWebhookPath(text, edits.webhookPath);
    if (result.applied) text = result.text;
    else notApplied.push('the webhook path');
  }
  return { text, notApplied };
}
