interface JsonViewProps {
  label: string;
  value: unknown;
  open?: boolean;
}

/** Pretty JSON that can be folded away; "[pii]" and other masked values are shown as given. */
export function JsonView({ label, value, open }: JsonViewProps) {
  if (value === undefined) return null;
  const text = JSON.stringify(value, null, 2) ?? 'null';
  const lines = text.split('\n').length;
  return (
    <details className="json-view" open={open ?? lines <= 15}>
      <summary>
        {label} <span className="muted">({lines === 1 ? text : `${lines} lines`})</span>
      </summary>
      <pre className="code-block" aria-label={label} tabIndex={0}>
        {text}
      </pre>
    </details>
  );
}
