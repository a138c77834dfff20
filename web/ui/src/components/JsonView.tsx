import { useState } from 'react';

interface JsonViewProps {
  label: string;
  value: unknown;
  open?: boolean;
}

/** Lines shown at first and added by each "more": a step's output can be a million rows. */
export const JSON_PAGE_LINES = 400;

/** Pretty JSON that can be folded away and is shown a page at a time; "[pii]" and other masked values are shown as given. */
export function JsonView({ label, value, open }: JsonViewProps) {
  const [shown, setShown] = useState(JSON_PAGE_LINES);
  if (value === undefined) return null;
  const text = JSON.stringify(value, null, 2) ?? 'null';
  const lines = text.split('\n');
  const cut = lines.length > shown;
  return (
    <details className="json-view" open={open ?? lines.length <= 15}>
      <summary>
        {label} <span className="muted">({lines.length === 1 ? text : `${lines.length.toLocaleString()} lines`})</span>
      </summary>
      <pre className="code-block" aria-label={label} tabIndex={0}>
        {cut ? lines.slice(0, shown).join('\n') : text}
      </pre>
      {cut && (
        <p className="json-view-more" aria-live="polite">
          Lines 1 to {shown.toLocaleString()} of {lines.length.toLocaleString()}.{' '}
          <button type="button" className="button button-small" onClick={() => setShown((n) => n + JSON_PAGE_LINES)}>
            Show {Math.min(JSON_PAGE_LINES, lines.length - shown).toLocaleString()} more lines
          </button>{' '}
          <button type="button" className="button button-small button-ghost" onClick={() => setShown(lines.length)}>
            Show all
          </button>
        </p>
      )}
    </details>
  );
}
