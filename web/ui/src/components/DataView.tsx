// Structured data as people read it: lists of records as tables, records as key/value pairs,
// anything deeper as compact JSON in its cell.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRowList(value: unknown): value is Record<string, unknown>[] {
  return Array.isArray(value) && value.length > 0 && value.every(isRecord);
}

function humanKey(key: string): string {
  const spaced = key.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString() : n.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

function plain(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null || value === undefined) return '–';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function ScalarValue({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">–</span>;
  if (typeof value === 'number') return <span className="num">{formatNumber(value)}</span>;
  if (typeof value === 'boolean') return <span>{value ? 'yes' : 'no'}</span>;
  if (typeof value === 'string') return <span>{value}</span>;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return <span>{value.map(plain).join(', ')}</span>;
  }
  if (isRowList(value)) {
    return (
      <ul className="cell-list">
        {value.map((row, i) => (
          <li key={i}>{Object.values(row).map(plain).join(' · ')}</li>
        ))}
      </ul>
    );
  }
  if (isRecord(value) && Object.values(value).every((v) => typeof v !== 'object' || v === null)) {
    return (
      <span>
        {Object.entries(value)
          .map(([k, v]) => `${humanKey(k).toLowerCase()} ${plain(v)}`)
          .join(', ')}
      </span>
    );
  }
  return <code className="compact-json">{JSON.stringify(value)}</code>;
}

export function RowsTable({ rows, caption }: { rows: Record<string, unknown>[]; caption: string }) {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return (
    <div className="table-wrap">
      <table className="table table-compact">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {humanKey(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {columns.map((c) => (
                <td key={c}>
                  <ScalarValue value={row[c]} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DataView({ value, label }: { value: unknown; label: string }) {
  if (isRowList(value)) return <RowsTable rows={value} caption={label} />;
  if (!isRecord(value)) return <ScalarValue value={value} />;
  const entries = Object.entries(value);
  const scalars = entries.filter(([, v]) => !isRowList(v));
  const tables = entries.filter(([, v]) => isRowList(v));
  return (
    <div className="data-view">
      {scalars.length > 0 && (
        <dl className="kv">
          {scalars.map(([k, v]) => (
            <div key={k} className="kv-row">
              <dt>{humanKey(k)}</dt>
              <dd><ScalarValue value={v} /></dd>
            </div>
          ))}
        </dl>
      )}
      {tables.map(([k, v]) => (
        <RowsTable key={k} rows={v as Record<string, unknown>[]} caption={humanKey(k)} />
      ))}
    </div>
  );
}
