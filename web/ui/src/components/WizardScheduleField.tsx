import { useEffect, useState } from 'react';
import { wizardApi } from '../api/wizard';
import {
  applyFrequencyChoice,
  FREQUENCY_CHOICES,
  fireTimeInWords,
  frequencyChoice,
  parseTimeValue,
  scheduleInWords,
  scheduleToCron,
  timeValue,
  timezoneChoices,
  timezoneInWords,
  type Schedule,
} from '../lib/scheduleWords';
import { toApiError } from '../lib/useAsync';

export type ScheduleMode = 'schedule' | 'none' | 'keep';

interface WizardScheduleFieldProps {
  mode: ScheduleMode;
  schedule: Schedule;
  /** The template's own schedule in words, when it is not one the form can say. */
  keepWords?: string;
  onChange: (mode: ScheduleMode, schedule: Schedule) => void;
}

const PREVIEW_DELAY_MS = 300;

type Preview = { state: 'idle' | 'loading' } | { state: 'done'; times: string[] } | { state: 'error'; message: string };

/** The schedule in words (frequency, time, zone), with the next three times it fires. */
export function WizardScheduleField({ mode, schedule, keepWords, onChange }: WizardScheduleFieldProps) {
  const [preview, setPreview] = useState<Preview>({ state: 'idle' });
  const cron = scheduleToCron(schedule);
  const on = mode === 'schedule';

  useEffect(() => {
    if (!on) {
      setPreview({ state: 'idle' });
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      setPreview({ state: 'loading' });
      wizardApi
        .cronNext(cron, schedule.timezone, 3, controller.signal)
        .then((answer) => setPreview({ state: 'done', times: answer.times }))
        .catch((err: unknown) => {
          if (controller.signal.aborted) return;
          const error = toApiError(err);
          const detail = error.problem.errors?.map((e) => e.message).join(' ') || error.message;
          setPreview({ state: 'error', message: detail });
        });
    }, PREVIEW_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [on, cron, schedule.timezone]);

  const choice = on ? frequencyChoice(schedule) : mode;
  const zones = timezoneChoices(schedule.timezone);

  return (
    <fieldset className="wizard-fieldset">
      <legend>Schedule</legend>
      <div className="wizard-schedule-row">
        <div className="field">
          <label htmlFor="wizard-frequency">How often</label>
          <select
            id="wizard-frequency"
            value={choice}
            onChange={(e) => {
              const value = e.target.value;
              if (value === 'none' || value === 'keep') onChange(value, schedule);
              else onChange('schedule', applyFrequencyChoice(schedule, value));
            }}
          >
            {FREQUENCY_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
            {keepWords && <option value="keep">as in the template ({keepWords})</option>}
            <option value="none">not on a schedule (start it by hand)</option>
          </select>
        </div>
        {on && schedule.frequency === 'hourly' && (
          <div className="field">
            <label htmlFor="wizard-minute">Minutes past the hour</label>
            <input
              id="wizard-minute"
              type="number"
              min={0}
              max={59}
              step={1}
              inputMode="numeric"
              value={schedule.minute}
              onChange={(e) => {
                const n = Number(e.target.value);
                if (e.target.value !== '' && Number.isInteger(n) && n >= 0 && n <= 59) onChange('schedule', { ...schedule, minute: n });
              }}
            />
          </div>
        )}
        {on && schedule.frequency !== 'hourly' && (
          <div className="field">
            <label htmlFor="wizard-time">Time of day</label>
            <input
              id="wizard-time"
              type="time"
              value={timeValue(schedule)}
              onChange={(e) => {
                const t = parseTimeValue(e.target.value);
                if (t) onChange('schedule', { ...schedule, ...t });
              }}
            />
          </div>
        )}
        {on && (
          <div className="field">
            <label htmlFor="wizard-timezone">Time zone</label>
            <select id="wizard-timezone" value={schedule.timezone} onChange={(e) => onChange('schedule', { ...schedule, timezone: e.target.value })}>
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z === 'UTC' ? 'UTC' : `${z.replace(/_/g, ' ')} (${timezoneInWords(z)})`}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      {on ? (
        <div className="wizard-schedule-summary" aria-live="polite">
          <p className="wizard-schedule-words">
            Runs <strong>{scheduleInWords(schedule)}</strong>{' '}
            <span className="muted small">
              (cron <code>{cron}</code>, {schedule.timezone})
            </span>
          </p>
          {preview.state === 'loading' && <p className="muted small">Working out the next runs…</p>}
          {preview.state === 'error' && <p className="field-error">The schedule could not be checked: {preview.message}</p>}
          {preview.state === 'done' && (
            <>
              <p className="small wizard-next-title" id="wizard-next-runs">
                Next three runs ({timezoneInWords(schedule.timezone)}):
              </p>
              <ul className="wizard-next-runs small" aria-labelledby="wizard-next-runs">
                {preview.times.length === 0 ? <li>This schedule never fires.</li> : preview.times.map((t) => <li key={t}>{fireTimeInWords(t)}</li>)}
              </ul>
            </>
          )}
        </div>
      ) : (
        <p className="hint">
          {mode === 'keep' ? `Keeps the template's schedule: ${keepWords ?? ''}.` : 'It runs only when started by hand, by the API or by its webhook.'}
        </p>
      )}
    </fieldset>
  );
}
