import { describe, expect, it } from 'vitest';
import { idFromName, isValidWorkflowId, uniqueId, workflowIdProblem } from './wizardId';

describe('idFromName', () => {
  it('makes ids the server accepts', () => {
    expect(idFromName('My CPA guardrail')).toBe('my-cpa-guardrail');
    expect(idFromName('  Weekly KPI report → Slack!  ')).toBe('weekly-kpi-report-slack');
    expect(idFromName('Überblick: Straße & Café')).toBe('uberblick-strasse-cafe');
    expect(idFromName('meta_ads sync')).toBe('meta_ads-sync');
    expect(idFromName('--_x')).toBe('x');
    expect(idFromName('2026 budget')).toBe('2026-budget');
    expect(idFromName('!!!')).toBe('');
    expect(idFromName('日本')).toBe('');
  });

  it('cuts to 64 characters without a trailing dash', () => {
    const id = idFromName(`${'a'.repeat(63)} b`);
    expect(id).toBe('a'.repeat(63));
    expect(idFromName('x'.repeat(100))).toHaveLength(64);
    for (const name of ['A B C', 'Ünïcödé näme', `${'word '.repeat(30)}`]) expect(isValidWorkflowId(idFromName(name))).toBe(true);
  });
});

describe('workflowIdProblem', () => {
  it('follows ^[a-z0-9][a-z0-9_-]{0,63}$ and refuses taken ids', () => {
    expect(workflowIdProblem('cpa-guardrail-2')).toBeNull();
    expect(workflowIdProblem('a')).toBeNull();
    expect(workflowIdProblem('')).toBe('Enter an id.');
    expect(workflowIdProblem('Bad_Id')).toMatch(/lowercase/);
    expect(workflowIdProblem('-x')).toMatch(/starting with a letter or digit/);
    expect(workflowIdProblem('has space')).not.toBeNull();
    expect(workflowIdProblem('x'.repeat(65))).toMatch(/At most 64/);
    expect(workflowIdProblem('x'.repeat(64))).toBeNull();
    expect(workflowIdProblem('cpa-guardrail', ['cpa-guardrail'])).toMatch(/exists already/);
  });
});

describe('uniqueId', () => {
  it('adds a number when the id is taken', () => {
    expect(uniqueId('cpa', [])).toBe('cpa');
    expect(uniqueId('cpa', ['cpa', 'cpa-2'])).toBe('cpa-3');
    const long = 'x'.repeat(64);
    expect(uniqueId(long, [long])).toBe(`${'x'.repeat(62)}-2`);
  });
});
