// Connection types and connections as the server describes them, for the tests.
import type { Connection, ConnectionType } from '../api/connections';

export const slackType: ConnectionType = {
  name: 'slack',
  title: 'Slack',
  description: 'Slack incoming webhook or bot token',
  oauth2: false,
  rate_limit: { per_second: 1, burst: 5 },
  one_of: ['webhook_url', 'bot_token'],
  fields: [
    { name: 'webhook_url', label: 'Incoming webhook URL', description: 'The URL is itself the credential', secret: true, required: false, kind: 'url' },
    { name: 'bot_token', label: 'Bot token', description: 'xoxb-... for chat.postMessage', secret: true, required: false, kind: 'secret' },
    { name: 'channel', label: 'Default channel', description: 'Channel id or #name for chat.postMessage', secret: false, required: false, kind: 'text' },
    { name: 'base_url', label: 'Base URL', description: 'Web API host', secret: false, required: false, kind: 'url', default: 'https://slack.com/api' },
  ],
};

export const metaType: ConnectionType = {
  name: 'meta_ads',
  title: 'Meta Ads',
  description: 'Meta Marketing API',
  oauth2: false,
  rate_limit: { per_second: 5, burst: 10 },
  one_of: [],
  fields: [
    { name: 'access_token', label: 'Access token', description: 'System-user or long-lived user token', secret: true, required: true, kind: 'secret' },
    { name: 'account_id', label: 'Ad account', description: 'Default ad account, e.g. act_1001', secret: false, required: false, kind: 'text' },
    { name: 'base_url', label: 'Base URL', description: 'Graph API host', secret: false, required: false, kind: 'url', default: 'https://graph.facebook.com' },
    { name: 'app_secret', label: 'App secret', description: "The Meta app's secret", secret: true, required: false, kind: 'secret' },
    { name: 'token_expires_at', label: 'Token expires at', description: 'Unix time (seconds)', secret: false, required: false, kind: 'digits' },
  ],
};

export const httpType: ConnectionType = {
  name: 'http',
  title: 'HTTP',
  description: 'Any HTTP API',
  oauth2: false,
  rate_limit: { per_second: 0, burst: 1 },
  one_of: [],
  fields: [
    { name: 'base_url', label: 'Base URL', description: 'Prefix for relative request URLs', secret: false, required: false, kind: 'url' },
    { name: 'auth', label: 'Authentication', description: 'How requests are authenticated', secret: false, required: false, kind: 'choice', default: 'none', choices: ['none', 'bearer', 'basic', 'header'] },
    { name: 'token', label: 'Bearer token', description: 'For auth bearer', secret: true, required: false, kind: 'secret' },
  ],
};

export const allTypes = [metaType, slackType, httpType];

export const metaMain: Connection = {
  name: 'meta-main',
  type: 'meta_ads',
  fields: { account_id: 'act_1001', base_url: 'http://127.0.0.1:41619/meta' },
  secret_fields_set: ['access_token', 'app_secret'],
  rate_limit: { per_second: 5, burst: 10 },
  rate_limit_default: true,
  key_id: 'k1',
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_000_000,
};
