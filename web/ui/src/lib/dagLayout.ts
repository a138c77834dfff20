// A layered left-to-right layout for step graphs: each step sits one column right of the
// furthest step it needs (longest path), and within a column steps are ordered by the mean row
// of what they need, which keeps most edges short and uncrossed for workflow-sized graphs.

export interface LayoutInput {
  id: string;
  needs: string[];
}

export interface LayoutPosition {
  x: number;
  y: number;
  layer: number;
  row: number;
}

export interface LayoutOptions {
  columnGap: number;
  rowGap: number;
}

const DEFAULTS: LayoutOptions = { columnGap: 240, rowGap: 96 };

/** Column of each node; needs naming unknown steps are ignored, and cycles are broken. */
export function assignLayers(nodes: LayoutInput[]): Map<string, number> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();

  const visit = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return -1; // a cycle: this edge does not push the column
    visiting.add(id);
    let column = 0;
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need) || need === id) continue;
      column = Math.max(column, visit(need) + 1);
    }
    visiting.delete(id);
    layer.set(id, column);
    return column;
  };

  for (const node of nodes) visit(node.id);
  return layer;
}

export function layoutDag(nodes: LayoutInput[], options: Partial<LayoutOptions> = {}): Map<string, LayoutPosition> {
  const { columnGap, rowGap } = { ...DEFAULTS, ...options };
  const layers = assignLayers(nodes);
  const inputOrder = new Map(nodes.map((n, i) => [n.id, i]));

  const columns: string[][] = [];
  for (const node of nodes) {
    const column = layers.get(node.id) ?? 0;
    (columns[column] ??= []).push(node.id);
  }

  const row = new Map<string, number>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  columns.forEach((ids, column) => {
    if (column > 0) {
      const weight = (id: string): number => {
        const parents = (byId.get(id)?.needs ?? []).filter((p) => row.has(p));
        if (parents.length === 0) return Number.POSITIVE_INFINITY;
        return parents.reduce((sum, p) => sum + (row.get(p) ?? 0), 0) / parents.length;
      };
      ids.sort((x, y) => weight(x) - weight(y) || (inputOrder.get(x) ?? 0) - (inputOrder.get(y) ?? 0));
    }
    ids.forEach((id, r) => row.set(id, r));
  });

  const tallest = Math.max(0, ...columns.map((c) => c?.length ?? 0));
  const positions = new Map<string, LayoutPosition>();
  columns.forEach((ids, column) => {
    // Centre shorter columns against the tallest one.
    const offset = ((tallest - ids.length) * rowGap) / 2;
    ids.forEach((id, r) => {
      positions.set(id, { x: column * columnGap, y: offset + r * rowGap, layer: column, row: r });
    });
  });
  return positions;
}
