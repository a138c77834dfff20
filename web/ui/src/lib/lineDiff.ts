// A line diff by longest common subsequence: small, exact, and fast enough for workflow
// definitions (hundreds of lines). Common head and tail are peeled off first so that a small
// change to a long file costs little.

export type DiffLine =
  | { kind: 'same'; text: string; oldLine: number; newLine: number }
  | { kind: 'removed'; text: string; oldLine: number }
  | { kind: 'added'; text: string; newLine: number };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function lineDiff(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);

  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;

  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const n = midA.length;
  const m = midB.length;

  // lcs[i][j]: length of the LCS of midA[i..] and midB[j..], stored row-major.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        midA[i] === midB[j]
          ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }

  const out: DiffLine[] = [];
  for (let k = 0; k < head; k++) out.push({ kind: 'same', text: a[k] ?? '', oldLine: k + 1, newLine: k + 1 });

  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      out.push({ kind: 'same', text: midA[i] ?? '', oldLine: head + i + 1, newLine: head + j + 1 });
      i++;
      j++;
    } else if (i < n && (j >= m || (lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0))) {
      // On a tie the removal goes first, as diff tools print it.
      out.push({ kind: 'removed', text: midA[i] ?? '', oldLine: head + i + 1 });
      i++;
    } else {
      out.push({ kind: 'added', text: midB[j] ?? '', newLine: head + j + 1 });
      j++;
    }
  }

  for (let k = 0; k < tail; k++) {
    const oldIdx = a.length - tail + k;
    const newIdx = b.length - tail + k;
    out.push({ kind: 'same', text: a[oldIdx] ?? '', oldLine: oldIdx + 1, newLine: newIdx + 1 });
  }
  return out;
}
