import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildWorkflowYaml,
  isPlainSafe,
  readCronTrigger,
  removeCronTrigger,
  setCronTrigger,
  setInputDefault,
  setWebhookPath,
  setWorkflowName,
  splitValueComment,
  yamlScalar,
} from './wizardYaml';

// The templates themselves, from the repository's workflows/ folder.
const here = dirname(fileURLToPath(import.meta.url));
const template = (file: string) => readFileSync(join(here, '..', '..', '..', '..', 'workflows', file), 'utf8');
const cpa = template('cpa-guardrail.yaml');

/** The lines of `after` that differ from `before` (both must have the same number of lines). */
function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  return b.filter((line, i) => line !== a[i]);
}

describe('yamlScalar', () => {
  it('writes plain scalars where they read back as the same string', () => {
    expect(yamlScalar('act_1001')).toBe('act_1001');
    expect(yamlScalar('meta-main')).toBe('meta-main');
    expect(yamlScalar('My CPA guardrail')).toBe('My CPA guardrail');
    expect(yamlScalar('Europe/Berlin')).toBe('Europe/Berlin');
    expect(yamlScalar(42)).toBe('42');
    expect(yamlScalar(37.5)).toBe('37.5');
    expect(yamlScalar(false)).toBe('false');
  });

  it('quotes strings that YAML would read as something else', () => {
    expect(yamlScalar('#marketing-alerts')).toBe('"#marketing-alerts"');
    expect(yamlScalar('1234567890')).toBe('"1234567890"');
    expect(yamlScalar('24h')).toBe('"24h"');
    expect(yamlScalar('yes')).toBe('"yes"');
    expect(yamlScalar('null')).toBe('"null"');
    expect(yamlScalar('Off')).toBe('"Off"');
    expect(yamlScalar('CPA: the guardrail')).toBe('"CPA: the guardrail"');
    expect(yamlScalar('a #comment')).toBe('"a #comment"');
    expect(yamlScalar(' padded')).toBe('" padded"');
    expect(yamlScalar('')).toBe('""');
    expect(yamlScalar('"hi" she said\\')).toBe('"\\"hi\\" she said\\\\"');
    // Quotes and backslashes inside a plain scalar are read literally.
    expect(yamlScalar('say "hi"\\now')).toBe('say "hi"\\now');
    expect(yamlScalar('two\nlines')).toBe('"two\\nlines"');
    expect(yamlScalar('- item')).toBe('"- item"');
    expect(yamlScalar('*alias')).toBe('"*alias"');
  });

  it('quotes flow indicators only inside flow mappings', () => {
    expect(isPlainSafe('a, b')).toBe(true);
    expect(isPlainSafe('a, b', true)).toBe(false);
    expect(yamlScalar('Spend [EUR]', true)).toBe('"Spend [EUR]"');
  });
});

describe('splitValueComment', () => {
  it('separates a trailing comment but not a # inside quotes or words', () => {
    expect(splitValueComment(' "0 8 * * *"              # every day')).toEqual({ value: ' "0 8 * * *"', tail: '              # every day' });
    expect(splitValueComment(' "#marketing" # where')).toEqual({ value: ' "#marketing"', tail: ' # where' });
    expect(splitValueComment(' a#b')).toEqual({ value: ' a#b', tail: '' });
    expect(splitValueComment(" it's # note")).toEqual({ value: " it's", tail: ' # note' });
  });
});

describe('the CPA guardrail template', () => {
  it('changes id, name, defaults and schedule and keeps every other line and comment', () => {
    const { text, notApplied } = buildWorkflowYaml(cpa, {
      id: 'my-cpa-guardrail',
      name: 'My CPA guardrail',
      defaults: { meta_connection: 'meta-eu', meta_account: 'act_2002', target_cpa: 35.5, days: 4, slack_connection: 'slack-main', approval_timeout: '12h' },
      schedule: { cron: '0 9 * * MON', timezone: 'America/New_York', words: 'every Monday at 9:00 New York time' },
    });
    expect(notApplied).toEqual([]);
    expect(changedLines(cpa, text)).toEqual([
      'id: my-cpa-guardrail',
      'name: My CPA guardrail',
      '  meta_connection: {type: string, default: meta-eu, description: Meta Ads connection, connection: meta_ads}',
      '  meta_account: {type: string, default: act_2002, description: Meta ad account to watch}',
      '  target_cpa: {type: number, default: 35.5, description: Highest acceptable cost per acquisition, unit: account currency}',
      '  days: {type: integer, default: 4, description: Days in a row the CPA must stay above the target, unit: days}',
      '  approval_timeout: {type: string, default: "12h", description: How long to wait for a decision before giving up}',
      '  - cron: "0 9 * * MON"              # every Monday at 9:00 New York time',
      '    timezone: America/New_York',
    ]);
    // Comments and the step definitions are untouched.
    expect(text).toContain('concurrency: {limit: 1, on_limit: skip}');
    expect(text.split('\n').filter((l) => l.includes('#'))).toHaveLength(cpa.split('\n').filter((l) => l.includes('#')).length);
  });

  it('reads the template schedule', () => {
    expect(readCronTrigger(cpa)).toEqual({ cron: '0 8 * * *', timezone: 'Europe/Berlin' });
  });

  it('quotes a name that needs it and leaves the description alone', () => {
    const text = setWorkflowName(cpa, 'CPA: Meta #1').text;
    expect(text.split('\n')[1]).toBe('name: "CPA: Meta #1"');
    expect(text.split('\n').slice(2, 7)).toEqual(cpa.split('\n').slice(2, 7));
  });
});

describe('setInputDefault', () => {
  const block = [
    'id: t',
    'inputs:',
    '  target_cpa:',
    '    type: number',
    '    default: 40   # EUR',
    '    unit: EUR',
    '  csv:',
    '    type: string',
    '    default: |',
    '      a,b',
    '      1,2',
    '    description: The CSV',
    '  account:',
    '    type: string',
    '    required: true',
    '  channel: {type: string, required: true, description: Slack channel}',
    'steps:',
    '  - {id: a, uses: core.noop}',
    '',
  ].join('\n');

  it('replaces a block-style default and keeps its comment', () => {
    const text = setInputDefault(block, 'target_cpa', 25).text;
    expect(changedLines(block, text)).toEqual(['    default: 25   # EUR']);
  });

  it('replaces a block scalar default with its lines', () => {
    const result = setInputDefault(block, 'csv', 'x,y\n3,4\n');
    expect(result.applied).toBe(true);
    expect(result.text).toContain('    default: |\n      x,y\n      3,4\n    description: The CSV');
    expect(result.text).not.toContain('1,2');
    const single = setInputDefault(block, 'csv', 'no newline').text;
    expect(single).toContain('    default: no newline\n    description: The CSV');
  });

  it('puts a default in place of required: true', () => {
    expect(setInputDefault(block, 'account', 'act_1').text).toContain('  account:\n    type: string\n    default: act_1\n  channel:');
    expect(setInputDefault(block, 'channel', '#alerts').text).toContain('  channel: {type: string, default: "#alerts", description: Slack channel}');
  });

  it('adds a default to a flow mapping without one', () => {
    const text = 'inputs:\n  n: {type: integer, description: Days}\nsteps: []\n';
    expect(setInputDefault(text, 'n', 3).text).toBe('inputs:\n  n: {type: integer, description: Days, default: 3}\nsteps: []\n');
  });

  it('reports an input it does not find instead of guessing', () => {
    expect(setInputDefault(block, 'missing', 1)).toEqual({ text: block, applied: false });
    expect(setInputDefault('id: x\nsteps: []\n', 'a', 1).applied).toBe(false);
  });
});

describe('schedule edits', () => {
  it('adds a cron trigger before steps when the template has no triggers', () => {
    const text = 'id: t\ninputs:\n  a: {type: number, default: 1}\n# the steps\nsteps:\n  - {id: a, uses: core.noop}\n';
    const result = setCronTrigger(text, { cron: '30 7 * * MON-FRI', timezone: 'Europe/Berlin', words: 'every weekday at 7:30 Berlin time' });
    expect(result.text).toBe(
      'id: t\ninputs:\n  a: {type: number, default: 1}\ntriggers:\n  - cron: "30 7 * * MON-FRI"  # every weekday at 7:30 Berlin time\n    timezone: Europe/Berlin\n    catch_up: latest\n# the steps\nsteps:\n  - {id: a, uses: core.noop}\n',
    );
    expect(readCronTrigger(result.text)).toEqual({ cron: '30 7 * * MON-FRI', timezone: 'Europe/Berlin' });
  });

  it('adds a cron trigger beside a webhook trigger', () => {
    const gate = template('approval-gate.yaml');
    const result = setCronTrigger(gate, { cron: '0 8 * * *', timezone: 'UTC' });
    expect(result.text).toContain('      auth: {scheme: token, secret: "${{ secrets.HOOK_SECRET }}"}\n  - cron: "0 8 * * *"\n    timezone: UTC\n    catch_up: latest\nsteps:');
  });

  it('adds a timezone when the trigger has none, and edits flow-style triggers', () => {
    const noZone = 'id: t\ntriggers:\n  - cron: "0 8 * * *"\n    catch_up: none\nsteps: []\n';
    expect(setCronTrigger(noZone, { cron: '0 9 * * *', timezone: 'Asia/Tokyo' }).text).toBe(
      'id: t\ntriggers:\n  - cron: "0 9 * * *"\n    timezone: Asia/Tokyo\n    catch_up: none\nsteps: []\n',
    );
    const flow = 'id: t\ntriggers:\n  - {cron: "0 8 * * *", timezone: UTC}\nsteps: []\n';
    expect(setCronTrigger(flow, { cron: '0 6 * * SUN', timezone: 'Europe/Paris' }).text).toContain('  - {cron: "0 6 * * SUN", timezone: Europe/Paris}');
  });

  it('removes the cron trigger and keeps the webhook', () => {
    const health = template('campaign-health-check.yaml');
    const text = removeCronTrigger(health).text;
    expect(readCronTrigger(text)).toBeNull();
    expect(text).toContain('triggers:\n  - webhook:                       # POST /hooks/campaign-health, signed, answers with the result');
    expect(text).toContain('defaults:');
    const onlyCron = removeCronTrigger(cpa).text;
    expect(onlyCron).not.toContain('triggers:');
    expect(onlyCron).toContain('  approval_timeout: {type: string, default: 24h, description: How long to wait for a decision before giving up}\nconcurrency:');
  });

  it('gives the webhook a new path', () => {
    const health = template('campaign-health-check.yaml');
    const text = setWebhookPath(health, 'my-health').text;
    expect(changedLines(health, text)).toEqual(['      path: my-health']);
  });
});

describe('every YAML template', () => {
  it.each(['approval-gate.yaml', 'campaign-health-check.yaml', 'csv-spend-upload.yaml', 'daily-anomaly-digest.yaml', 'hubspot-revenue-cac.yaml', 'lua-scoring.yaml', 'unified-daily-sync.yaml', 'weekly-kpi-report.yaml'])(
    '%s takes a new id and name and keeps the rest',
    (file) => {
      const source = template(file);
      const { text, notApplied } = buildWorkflowYaml(source, { id: 'new-one', name: 'New one', defaults: {} });
      expect(notApplied).toEqual([]);
      const changed = changedLines(source, text);
      expect(changed).toEqual(['id: new-one', 'name: New one']);
    },
  );

  it('sets a Slack channel that needs quotes in the weekly KPI report', () => {
    const source = template('weekly-kpi-report.yaml');
    const { text } = buildWorkflowYaml(source, { id: 'kpi', name: 'KPI', defaults: { channel: '#growth-team' } });
    expect(text).toContain('  channel: {type: string, default: "#growth-team", description: Slack channel for the report}');
  });
});
