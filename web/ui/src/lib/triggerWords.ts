import type { Trigger } from '../api/types';
import { cronInWords } from './cronWords';

export function triggerInWords(trigger: Trigger): string {
  if (trigger.type === 'cron') return cronInWords(trigger.cron, trigger.timezone);
  return `webhook ${trigger.url || `/hooks/${trigger.path}`}`;
}
