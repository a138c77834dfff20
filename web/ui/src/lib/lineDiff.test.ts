import { describe, expect, it } from 'vitest';
import { lineDiff } from './lineDiff';

const render = (oldText: string, newText: string) =>
  lineDiff(oldText, newText).map((l) => `${l.kind === 'same' ? ' ' : l.kind === 'added' ? '+' : '-'}${l.text}`);

describe('lineDiff', () => {
  it('marks nothing when texts are equal', () => {
    expect(render('a\nb\n', 'a\nb\n')).toEqual([' a', ' b']);
  });

  it('finds a changed line in the middle', () => {
    expect(render('a\nb\nc\n', 'a\nB\nc\n')).toEqual([' a', '-b', '+B', ' c']);
  });

  it('keeps the longest common subsequence', () => {
    const out = render('x\na\nb\nc\ny', 'a\nz\nb\nc');
    expect(out.filter((l) => l.startsWith(' '))).toEqual([' a', ' b', ' c']);
    expect(out.filter((l) => l.startsWith('-')).sort()).toEqual(['-x', '-y']);
    expect(out.filter((l) => l.startsWith('+'))).toEqual(['+z']);
  });

  it('numbers lines on both sides', () => {
    const out = lineDiff('a\nb\nc', 'a\nx\nb\nc');
    expect(out).toEqual([
      { kind: 'same', text: 'a', oldLine: 1, newLine: 1 },
      { kind: 'added', text: 'x', newLine: 2 },
      { kind: 'same', text: 'b', oldLine: 2, newLine: 3 },
      { kind: 'same', text: 'c', oldLine: 3, newLine: 4 },
    ]);
  });

  it('handles empty sides', () => {
    expect(render('', 'a\nb')).toEqual(['+a', '+b']);
    expect(render('a\nb', '')).toEqual(['-a', '-b']);
  });

  it('rebuilds both texts from its output', () => {
    const oldText = 'id: x\nsteps:\n  - id: a\n  - id: b\n    needs: [a]\nend';
    const newText = 'id: x\nname: X\nsteps:\n  - id: b\n  - id: a\n    needs: [b]\nend';
    const out = lineDiff(oldText, newText);
    expect(out.filter((l) => l.kind !== 'added').map((l) => l.text).join('\n')).toBe(oldText);
    expect(out.filter((l) => l.kind !== 'removed').map((l) => l.text).join('\n')).toBe(newText);
  });
});
