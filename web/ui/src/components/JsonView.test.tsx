import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { JSON_PAGE_LINES, JsonView } from './JsonView';

const rows = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('JsonView', () => {
  it('shows a small value whole, open, with no paging', () => {
    render(<JsonView label="Output" value={{ a: 1 }} />);
    expect(screen.getByLabelText('Output').textContent).toBe('{\n  "a": 1\n}');
    expect(screen.queryByRole('button', { name: /more lines/ })).toBeNull();
  });

  it('shows a large value a page at a time', async () => {
    // An array of n numbers pretty-prints as n + 2 lines.
    render(<JsonView label="Output" value={rows(1000)} open />);
    const pre = screen.getByLabelText('Output');
    expect(pre.textContent!.split('\n')).toHaveLength(JSON_PAGE_LINES);
    expect(screen.getByText(/Lines 1 to 400 of 1,002/)).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Show 400 more lines' }));
    expect(pre.textContent!.split('\n')).toHaveLength(2 * JSON_PAGE_LINES);
    await userEvent.click(screen.getByRole('button', { name: 'Show 202 more lines' }));
    expect(pre.textContent!.split('\n')).toHaveLength(1002);
    expect(screen.queryByRole('button', { name: /more lines/ })).toBeNull();
  });

  it('shows everything at once on request', async () => {
    render(<JsonView label="Output" value={rows(5000)} open />);
    await userEvent.click(screen.getByRole('button', { name: 'Show all' }));
    expect(screen.getByLabelText('Output').textContent).toBe(JSON.stringify(rows(5000), null, 2));
  });
});
