import { describe, expect, it } from 'vitest';
import { describeCron } from './cronWords';
import {
  applyFrequencyChoice,
  cronToSchedule,
  fireTimeInWords,
  frequencyChoice,
  parseTimeValue,
  scheduleInWords,
  scheduleToCron,
  timezoneChoices,
  timezoneInWords,
  type Schedule,
} from './scheduleWords';

const base: Schedule = { frequency: 'daily', day: 1, hour: 8, minute: 0, timezone: 'Europe/Berlin' };

describe('schedule in words → cron', () => {
  it('gives the cron expression of each frequency', () => {
    expect(scheduleToCron(base)).toBe('0 8 * * *');
    expect(scheduleToCron({ ...base, frequency: 'weekdays', hour: 7, minute: 30 })).toBe('30 7 * * MON-FRI');
    expect(scheduleToCron({ ...base, frequency: 'weekly', day: 1, hour: 9 })).toBe('0 9 * * MON');
    expect(scheduleToCron({ ...base, frequency: 'weekly', day: 0, hour: 18, minute: 45 })).toBe('45 18 * * SUN');
    expect(scheduleToCron({ ...base, frequency: 'hourly', minute: 15, hour: 3 })).toBe('15 * * * *');
  });

  it('says it in words with the zone as a city', () => {
    expect(scheduleInWords({ ...base, frequency: 'weekly', day: 1, hour: 9 })).toBe('every Monday at 9:00 Berlin time');
    expect(scheduleInWords(base)).toBe('every day at 8:00 Berlin time');
    expect(scheduleInWords({ ...base, frequency: 'weekdays', hour: 7, minute: 5, timezone: 'America/New_York' })).toBe(
      'every weekday (Monday to Friday) at 7:05 New York time',
    );
    expect(scheduleInWords({ ...base, frequency: 'hourly', minute: 0, timezone: 'UTC' })).toBe('every hour, on the hour (UTC)');
    expect(scheduleInWords({ ...base, frequency: 'hourly', minute: 20 })).toBe('every hour at 20 minutes past (Berlin time)');
    expect(timezoneInWords('America/Argentina/Buenos_Aires')).toBe('Buenos Aires time');
  });

  it('agrees with the app-wide cron wording', () => {
    expect(describeCron(scheduleToCron({ ...base, frequency: 'weekly', day: 3, hour: 14, minute: 30 }))).toBe('every Wednesday at 14:30');
    expect(describeCron(scheduleToCron({ ...base, frequency: 'weekdays' }))).toBe('every weekday at 8:00');
  });
});

describe('cron → schedule in words', () => {
  it('reads the forms the wizard offers', () => {
    expect(cronToSchedule('0 8 * * *', 'Europe/Berlin')).toEqual(base);
    expect(cronToSchedule('0 9 * * MON', 'UTC')).toMatchObject({ frequency: 'weekly', day: 1, hour: 9, minute: 0, timezone: 'UTC' });
    expect(cronToSchedule('30 7 * * 1-5', 'UTC')).toMatchObject({ frequency: 'weekdays', hour: 7, minute: 30 });
    expect(cronToSchedule('0 10 * * 7', 'UTC')).toMatchObject({ frequency: 'weekly', day: 0 });
    expect(cronToSchedule('15 * * * *', 'UTC')).toMatchObject({ frequency: 'hourly', minute: 15 });
    expect(cronToSchedule('@daily', 'UTC')).toMatchObject({ frequency: 'daily', hour: 0, minute: 0 });
    expect(cronToSchedule('0 0 9 * * sun', 'UTC')).toMatchObject({ frequency: 'weekly', day: 0, hour: 9 });
  });

  it('refuses the forms it cannot say', () => {
    for (const expr of ['*/15 * * * *', '0 9 1 * *', '0 9 * 1 *', '0 8,12 * * *', '0 9 * * MON,WED', '0 24 * * *', '5 0 9 * * *', 'nonsense']) {
      expect(cronToSchedule(expr, 'UTC')).toBeNull();
    }
  });

  it('round-trips every offered schedule', () => {
    for (const frequency of ['daily', 'weekdays', 'weekly', 'hourly'] as const) {
      for (const day of [0, 3, 6]) {
        const s: Schedule = { frequency, day, hour: 23, minute: 59, timezone: 'Asia/Tokyo' };
        const back = cronToSchedule(scheduleToCron(s), s.timezone);
        expect(back && scheduleToCron(back)).toBe(scheduleToCron(s));
      }
    }
  });
});

describe('form helpers', () => {
  it('maps the frequency dropdown to and from the schedule', () => {
    expect(frequencyChoice({ ...base, frequency: 'weekly', day: 5 })).toBe('weekly-5');
    expect(applyFrequencyChoice(base, 'weekly-2')).toMatchObject({ frequency: 'weekly', day: 2, hour: 8 });
    expect(applyFrequencyChoice(base, 'hourly').frequency).toBe('hourly');
    expect(applyFrequencyChoice(base, 'bogus')).toBe(base);
  });

  it('reads times of day', () => {
    expect(parseTimeValue('09:30')).toEqual({ hour: 9, minute: 30 });
    expect(parseTimeValue('9:05:00')).toEqual({ hour: 9, minute: 5 });
    expect(parseTimeValue('24:00')).toBeNull();
    expect(parseTimeValue('')).toBeNull();
  });

  it('offers the browser zone and the current one', () => {
    const zones = timezoneChoices('America/Lima', 'Asia/Kathmandu');
    expect(zones.slice(0, 2)).toEqual(['America/Lima', 'Asia/Kathmandu']);
    expect(zones).toContain('Europe/Berlin');
    expect(new Set(zones).size).toBe(zones.length);
  });

  it('says a fire time as the server wrote it, in the schedule zone', () => {
    expect(fireTimeInWords('2026-11-30T09:00:00+01:00')).toBe('Monday 30 November 2026, 9:00');
    expect(fireTimeInWords('2027-03-28T23:05:00-04:00')).toBe('Sunday 28 March 2027, 23:05');
  });
});
