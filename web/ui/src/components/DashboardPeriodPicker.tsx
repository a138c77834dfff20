import { useEffect, useState, type FormEvent } from 'react';
import { platformName } from '../lib/kpiFormat';
import { checkCustomDates, PRESET_RANGES, type CustomErrors, type PeriodSelection, type PresetRange } from '../lib/kpiPeriod';

interface PickerProps {
  selection: PeriodSelection;
  /** The platforms that have data, for the filter. */
  platforms: readonly string[];
  /** The period on screen, to start custom dates from. */
  shown?: { since: string; until: string };
  /** The newest day with data, the latest a custom period may sensibly end. */
  latestDate?: string | null;
  onChange: (selection: PeriodSelection) => void;
}

/** The period (last 7/14/28/90 days or custom dates) and the platform filter. */
export function DashboardPeriodPicker({ selection, platforms, shown, latestDate, onChange }: PickerProps) {
  const [custom, setCustom] = useState(selection.kind === 'custom');
  const [since, setSince] = useState(selection.kind === 'custom' ? selection.since : (shown?.since ?? ''));
  const [until, setUntil] = useState(selection.kind === 'custom' ? selection.until : (shown?.until ?? ''));
  const [errors, setErrors] = useState<CustomErrors>({});

  const customKey = selection.kind === 'custom' ? `${selection.since}/${selection.until}` : '';
  // The URL is the truth: back/forward or a link changes the selection under the picker.
  useEffect(() => {
    setCustom(selection.kind === 'custom');
    if (selection.kind === 'custom') {
      setSince(selection.since);
      setUntil(selection.until);
    }
    setErrors({});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [customKey]);

  const rangeValue = custom ? 'custom' : selection.kind === 'preset' ? String(selection.days) : 'custom';
  const platform = selection.platform ?? '';
  const platformChoices = platform && !platforms.includes(platform) ? [...platforms, platform] : platforms;

  const onRange = (value: string) => {
    if (value === 'custom') {
      setCustom(true);
      if (!since && shown) setSince(shown.since);
      if (!until && shown) setUntil(shown.until);
      return;
    }
    setCustom(false);
    setErrors({});
    onChange({ kind: 'preset', days: Number(value) as PresetRange, platform: selection.platform });
  };

  const apply = (event: FormEvent) => {
    event.preventDefault();
    if (!custom) return;
    const found = checkCustomDates(since, until);
    setErrors(found);
    if (found.since || found.until) return;
    onChange({ kind: 'custom', since, until, platform: selection.platform });
  };

  const onPlatform = (value: string) => {
    onChange({ ...selection, platform: value || undefined });
  };

  return (
    <form className="filters period-picker" aria-label="Dashboard filters" onSubmit={apply} noValidate>
      <div className="field field-inline">
        <label htmlFor="kpi-range">Period</label>
        <select id="kpi-range" value={rangeValue} onChange={(e) => onRange(e.target.value)}>
          {PRESET_RANGES.map((n) => (
            <option key={n} value={String(n)}>
              Last {n} days
            </option>
          ))}
          <option value="custom">Custom dates</option>
        </select>
      </div>
      {custom && (
        <>
          <div className="field field-inline">
            <label htmlFor="kpi-since">First day</label>
            <input
              id="kpi-since"
              type="date"
              value={since}
              max={latestDate ?? undefined}
              onChange={(e) => setSince(e.target.value)}
              aria-invalid={errors.since ? true : undefined}
              aria-describedby={errors.since ? 'kpi-since-error' : undefined}
              required
            />
            {errors.since && (
              <p className="field-error" id="kpi-since-error">
                {errors.since}
              </p>
            )}
          </div>
          <div className="field field-inline">
            <label htmlFor="kpi-until">Last day</label>
            <input
              id="kpi-until"
              type="date"
              value={until}
              max={latestDate ?? undefined}
              onChange={(e) => setUntil(e.target.value)}
              aria-invalid={errors.until ? true : undefined}
              aria-describedby={errors.until ? 'kpi-until-error' : undefined}
              required
            />
            {errors.until && (
              <p className="field-error" id="kpi-until-error">
                {errors.until}
              </p>
            )}
          </div>
          <div className="field field-inline period-apply">
            <button type="submit" className="button button-primary">
              Show these dates
            </button>
          </div>
        </>
      )}
      <div className="field field-inline">
        <label htmlFor="kpi-platform">Platform</label>
        <select id="kpi-platform" value={platform} onChange={(e) => onPlatform(e.target.value)}>
          <option value="">All platforms</option>
          {platformChoices.map((p) => (
            <option key={p} value={p}>
              {platformName(p)}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}
