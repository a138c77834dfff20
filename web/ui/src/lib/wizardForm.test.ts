import { describe, expect, it } from 'vitest';
import type { WorkflowInput } from '../api/types';
import { connectionTypeName, fieldKind, initialConnection, parseWizardValues, slackChannelProblem, suggestedName } from './wizardForm';

const input = (over: Partial<WorkflowInput>): WorkflowInput => ({ name: 'x', type: 'string', required: false, description: '', ...over });

describe('wizard form fields', () => {
  it('picks a kind of field from the declared input', () => {
    expect(fieldKind(input({ connection: 'meta_ads' }))).toBe('connection');
    expect(fieldKind(input({ name: 'channel' }))).toBe('slack_channel');
    expect(fieldKind(input({ name: 'alert_channel' }))).toBe('slack_channel');
    expect(fieldKind(input({ name: 'target', description: 'Slack channel to warn' }))).toBe('slack_channel');
    expect(fieldKind(input({ name: 'channel', type: 'number' }))).toBe('number');
    expect(fieldKind(input({ type: 'integer' }))).toBe('integer');
    expect(fieldKind(input({ type: 'array' }))).toBe('kept');
    expect(fieldKind(input({ name: 'meta_account' }))).toBe('text');
    expect(connectionTypeName('meta_ads')).toBe('Meta Ads');
    expect(connectionTypeName('some_crm')).toBe('Some Crm');
  });

  it('starts a connection field with one that exists', () => {
    const meta = input({ connection: 'meta_ads', default: 'meta-main' });
    expect(initialConnection(meta, ['meta-eu', 'meta-main'])).toBe('meta-main');
    expect(initialConnection(meta, ['meta-eu'])).toBe('meta-eu');
    expect(initialConnection(meta, ['a', 'b'])).toBe('meta-main');
  });

  it('reads typed values and names what is wrong', () => {
    const inputs = [
      input({ name: 'cpa', type: 'number' }),
      input({ name: 'days', type: 'integer' }),
      input({ name: 'meta', connection: 'meta_ads' }),
      input({ name: 'on', type: 'boolean' }),
      input({ name: 'rows', type: 'array', default: [] }),
      input({ name: 'note' }),
    ];
    expect(parseWizardValues(inputs, { cpa: ' 12.5 ', days: '3', meta: 'meta-main', on: true, note: ' hi ' })).toEqual({
      values: { cpa: 12.5, days: 3, meta: 'meta-main', on: true, note: 'hi' },
      errors: {},
    });
    expect(parseWizardValues(inputs, { cpa: 'abc', days: '1.5', meta: '', on: false, note: '' }).errors).toEqual({
      cpa: 'Enter a number.',
      days: 'Enter a whole number.',
      meta: 'Choose a Meta Ads connection.',
    });
  });

  it('checks Slack channels', () => {
    expect(slackChannelProblem('#marketing-alerts')).toBeNull();
    expect(slackChannelProblem('C0123ABCD')).toBeNull();
    expect(slackChannelProblem('')).toMatch(/Enter a channel/);
    expect(slackChannelProblem('Marketing')).toMatch(/lowercase/);
  });

  it('suggests a name whose id is free', () => {
    expect(suggestedName('CPA guardrail', ['cpa-guardrail'])).toBe('My CPA guardrail');
    expect(suggestedName('CPA guardrail', ['my-cpa-guardrail', 'my-cpa-guardrail-2'])).toBe('My CPA guardrail 3');
  });
});
