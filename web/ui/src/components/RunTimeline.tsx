import type { Step } from '../api/types';
import { spanDuration } from '../lib/time';
import { statusLabel } from './StatusChip';

interface RunTimelineProps {
  steps: Step[];
  order: string[];
  now: number;
  selected: string | null;
  onSelect: (stepId: string) => void;
}

/** Each step as a bar from its start to its end, on the run's own time axis. */
export function RunTimeline({ steps, order, now, selected, onSelect }: RunTimelineProps) {
  const byId = new Map(steps.map((s) => [s.step_id, s]));
  const ordered = [...order.filter((id) => byId.has(id)), ...steps.map((s) => s.step_id).filter((id) => !order.includes(id))];
  const started = steps.filter((s) => s.started_at).map((s) => s.started_at as number);
  if (started.length === 0) return <p className="muted">No step has started yet.</p>;
  const start = Math.min(...started);
  const end = Math.max(start + 1, ...steps.map((s) => s.finished_at ?? (s.started_at ? now : start)));
  const span = end - start;

  return (
    <ol className="timeline" aria-label="Step timeline">
      {ordered.map((id) => {
        const step = byId.get(id);
        if (!step) return null;
        const left = step.started_at ? ((step.started_at - start) / span) * 100 : 0;
        const width = step.started_at ? Math.max(0.6, (((step.finished_at ?? now) - step.started_at) / span) * 100) : 0;
        return (
          <li key={id} className="timeline-row">
            <button
              type="button"
              className="timeline-label"
              aria-pressed={selected === id}
              onClick={() => onSelect(id)}
            >
              {id}
            </button>
            <div className="timeline-track">
              {step.started_at ? (
                <span
                  className={`timeline-bar step-${step.status}`}
                  style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
                />
              ) : null}
            </div>
            <span className="timeline-meta">
              {statusLabel(step.status)} · {spanDuration(step.started_at, step.finished_at, now)}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
