import { describe, expect, it } from 'vitest';
import type { Connection } from '../api/connections';
import {
  buildConnectionInput,
  emptyFormState,
  errorKeys,
  initialFormState,
  placeServerErrors,
  rateLimitInWords,
  type ConnectionFormState,
} from './connectionForm';
import { metaMain, metaType, slackType } from './connectionFixtures';

function state(over: Partial<ConnectionFormState>): ConnectionFormState {
  return { ...emptyFormState(), ...over };
}

describe('initialFormState', () => {
  it('fills non-secret fields from the connection and never a secret', () => {
    const s = initialFormState(metaType, metaMain);
    expect(s.values).toEqual({
      access_token: '',
      account_id: 'act_1001',
      base_url: 'http://127.0.0.1:41619/meta',
      app_secret: '',
      token_expires_at: '',
    });
    expect(s.perSecond).toBe('');
    expect(s.burst).toBe('');
  });

  it('shows a connection’s own rate limit', () => {
    const s = initialFormState(metaType, { ...metaMain, rate_limit: { per_second: 2, burst: 4 }, rate_limit_default: false });
    expect([s.perSecond, s.burst]).toEqual(['2', '4']);
  });
});

describe('buildConnectionInput on create', () => {
  it('sends name, type and the fields that have a value', () => {
    const s = state({ name: ' meta-2 ', type: 'meta_ads', values: { access_token: 'EAAB tok', account_id: ' act_9 ', base_url: '', app_secret: '' } });
    expect(buildConnectionInput(metaType, s)).toEqual({
      input: { name: 'meta-2', type: 'meta_ads', fields: { access_token: 'EAAB tok', account_id: 'act_9' } },
      errors: {},
    });
  });

  it('asks for the name, required fields, digits and URLs', () => {
    const s = state({ name: '-bad', type: 'meta_ads', values: { access_token: '', token_expires_at: '12a', base_url: 'graph.facebook.com' } });
    const { input, errors } = buildConnectionInput(metaType, s);
    expect(input).toBeNull();
    expect(errors).toEqual({
      name: expect.stringContaining('letters, digits'),
      'fields.access_token': 'Required.',
      'fields.token_expires_at': 'Digits only (0-9).',
      'fields.base_url': expect.stringContaining('http'),
    });
  });

  it('needs one of the one_of fields and says which', () => {
    const { errors } = buildConnectionInput(slackType, state({ name: 's', type: 'slack', values: { channel: '#ops' } }));
    expect(errors).toEqual({ 'fields.webhook_url': 'Set Incoming webhook URL or Bot token.' });
    const ok = buildConnectionInput(slackType, state({ name: 's', type: 'slack', values: { bot_token: 'xoxb-1' } }));
    expect(ok.input).toEqual({ name: 's', type: 'slack', fields: { bot_token: 'xoxb-1' } });
  });

  it('sends a rate limit only when both parts are given', () => {
    const base = { name: 's', type: 'slack', values: { bot_token: 'x' } };
    expect(buildConnectionInput(slackType, state({ ...base, perSecond: '2', burst: '4' })).input?.rate_limit).toEqual({ per_second: 2, burst: 4 });
    expect(buildConnectionInput(slackType, state({ ...base, perSecond: '2' })).errors).toEqual({
      'rate_limit.burst': expect.stringContaining('burst'),
    });
    expect(buildConnectionInput(slackType, state({ ...base, perSecond: '-1', burst: '0' })).errors).toEqual({
      'rate_limit.per_second': expect.any(String),
      'rate_limit.burst': expect.any(String),
    });
  });

  it('asks for a type first', () => {
    expect(buildConnectionInput(undefined, state({ name: 'x' })).errors).toEqual({ type: 'Choose a type.' });
  });
});

describe('buildConnectionInput on edit', () => {
  const edit = (over: Record<string, string>, extra: Partial<ConnectionFormState> = {}, conn: Connection = metaMain) => {
    const s = initialFormState(metaType, conn);
    return buildConnectionInput(metaType, { ...s, ...extra, values: { ...s.values, ...over } }, conn);
  };

  it('sends nothing for untouched fields: secrets left empty are kept', () => {
    expect(edit({})).toEqual({ input: { fields: {} }, errors: {} });
  });

  it('sends a changed field, null for an emptied one, and a new secret', () => {
    expect(edit({ account_id: 'act_2', base_url: '', access_token: 'new-token' }).input).toEqual({
      fields: { account_id: 'act_2', base_url: null, access_token: 'new-token' },
    });
  });

  it('sends null for a secret the user clears, and refuses to clear a required one', () => {
    expect(edit({}, { clear: { app_secret: true } }).input).toEqual({ fields: { app_secret: null } });
    expect(edit({}, { clear: { access_token: true } }).errors).toEqual({ 'fields.access_token': 'Required.' });
    expect(edit({ access_token: 'replacement' }, { clear: {} }).input).toEqual({ fields: { access_token: 'replacement' } });
  });

  it('does not send the name or the type', () => {
    const { input } = edit({ account_id: 'act_3' }, { name: 'renamed', type: 'slack' });
    expect(input).toEqual({ fields: { account_id: 'act_3' } });
  });

  it('sends the rate limit only when it changed, and the default’s numbers when emptied', () => {
    const custom = { ...metaMain, rate_limit: { per_second: 2, burst: 4 }, rate_limit_default: false };
    expect(edit({}, {}, custom).input).toEqual({ fields: {} });
    expect(edit({}, { perSecond: '3', burst: '4' }, custom).input?.rate_limit).toEqual({ per_second: 3, burst: 4 });
    expect(edit({}, { perSecond: '', burst: '' }, custom).input?.rate_limit).toEqual({ per_second: 5, burst: 10 });
    expect(edit({}, { perSecond: '5', burst: '10' }).input?.rate_limit).toEqual({ per_second: 5, burst: 10 });
  });
});

describe('placeServerErrors', () => {
  it('puts each error at its field and keeps the others', () => {
    const { byField, rest } = placeServerErrors(
      [
        { path: 'fields.access_token', message: 'contains a control character' },
        { path: 'fields.nope', message: 'unknown field' },
        { path: 'rate_limit.burst', message: 'must be a number, 1 or more' },
        { path: 'name', message: 'bad name' },
        { message: 'something general' },
      ],
      errorKeys(metaType, true),
    );
    expect(byField).toEqual({
      'fields.access_token': 'contains a control character',
      'rate_limit.burst': 'must be a number, 1 or more',
      name: 'bad name',
    });
    expect(rest.map((e) => e.message)).toEqual(['unknown field', 'something general']);
  });

  it('does not place name and type errors on edit, where they have no control', () => {
    const { byField, rest } = placeServerErrors([{ path: 'type', message: 'cannot change' }], errorKeys(metaType, false));
    expect(byField).toEqual({});
    expect(rest).toHaveLength(1);
  });
});

describe('rateLimitInWords', () => {
  it('reads as calls per second and burst', () => {
    expect(rateLimitInWords({ per_second: 0, burst: 1 })).toBe('unlimited');
    expect(rateLimitInWords({ per_second: 1, burst: 5 })).toBe('1 call/s, burst 5');
    expect(rateLimitInWords({ per_second: 2.5, burst: 10 })).toBe('2.5 calls/s, burst 10');
  });
});
