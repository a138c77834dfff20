import { describe, expect, it } from 'vitest';
import { assignLayers, layoutDag } from './dagLayout';

describe('layoutDag', () => {
  it('puts each step one column right of the furthest step it needs', () => {
    const layers = assignLayers([
      { id: 'fetch', needs: [] },
      { id: 'clean', needs: ['fetch'] },
      { id: 'report', needs: ['clean', 'fetch'] },
      { id: 'notify', needs: ['report'] },
    ]);
    expect(Object.fromEntries(layers)).toEqual({ fetch: 0, clean: 1, report: 2, notify: 3 });
  });

  it('lays out a diamond with the branches stacked in the middle column', () => {
    const pos = layoutDag(
      [
        { id: 'a', needs: [] },
        { id: 'b', needs: ['a'] },
        { id: 'c', needs: ['a'] },
        { id: 'd', needs: ['b', 'c'] },
      ],
      { columnGap: 100, rowGap: 50 },
    );
    expect(pos.get('a')).toMatchObject({ x: 0, layer: 0 });
    expect(pos.get('b')).toMatchObject({ x: 100, y: 0, row: 0 });
    expect(pos.get('c')).toMatchObject({ x: 100, y: 50, row: 1 });
    expect(pos.get('d')).toMatchObject({ x: 200, layer: 2 });
    // Single nodes are centred against the two-node column.
    expect(pos.get('a')?.y).toBe(25);
    expect(pos.get('d')?.y).toBe(25);
  });

  it('orders a column by the rows of what it needs, to avoid crossings', () => {
    const pos = layoutDag([
      { id: 'top', needs: [] },
      { id: 'bottom', needs: [] },
      { id: 'after-bottom', needs: ['bottom'] },
      { id: 'after-top', needs: ['top'] },
    ]);
    expect(pos.get('after-top')?.row).toBe(0);
    expect(pos.get('after-bottom')?.row).toBe(1);
  });

  it('ignores needs on unknown steps and survives cycles', () => {
    const pos = layoutDag([
      { id: 'a', needs: ['ghost'] },
      { id: 'b', needs: ['c'] },
      { id: 'c', needs: ['b'] },
    ]);
    expect(pos.get('a')?.layer).toBe(0);
    expect(pos.size).toBe(3);
    const layers = [pos.get('b')?.layer, pos.get('c')?.layer].sort();
    expect(layers).toEqual([0, 1]);
  });
});
