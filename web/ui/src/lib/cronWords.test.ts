import { describe, expect, it } from 'vitest';
import { cronInWords, describeCron } from './cronWords';

describe('cronInWords', () => {
  it.each([
    ['0 8 * * *', 'every day at 8:00'],
    ['30 17 * * *', 'every day at 17:30'],
    ['0 9 * * MON', 'every Monday at 9:00'],
    ['0 9 * * 1', 'every Monday at 9:00'],
    ['0 9 * * 7', 'every Sunday at 9:00'],
    ['0 9 * * 1-5', 'every weekday at 9:00'],
    ['0 9 * * MON-FRI', 'every weekday at 9:00'],
    ['0 9 * * 1,4', 'every Monday and Thursday at 9:00'],
    ['0 9,17 * * *', 'every day at 9:00 and 17:00'],
    ['0 6 1 * *', 'on the 1st of every month at 6:00'],
    ['15 6 22 * *', 'on the 22nd of every month at 6:15'],
    ['0 0 1 1 *', 'every year on January 1 at 0:00'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['* * * * *', 'every minute'],
    ['0 * * * *', 'every hour'],
    ['5 * * * *', 'every hour at minute 5'],
    ['0 */6 * * *', 'every 6 hours'],
    ['@daily', 'every day at 0:00'],
    ['@hourly', 'every hour'],
    ['0 0 9 * * *', 'every day at 9:00'],
  ])('says %s as "%s"', (expr, words) => {
    expect(describeCron(expr)).toBe(words);
  });

  it('adds the time zone', () => {
    expect(cronInWords('0 8 * * *', 'Europe/Berlin')).toBe('every day at 8:00 (Europe/Berlin)');
  });

  it.each(['0 9 1-7 * MON', '5-10 9 * * *', '30 9 * * 9', '0 25 * * *', '15 0 9 * * *', 'garbage'])(
    'gives back %s unchanged when it has no wording',
    (expr) => {
      expect(describeCron(expr)).toBeNull();
      expect(cronInWords(expr, 'UTC')).toBe(`${expr} (UTC)`);
    },
  );
});
