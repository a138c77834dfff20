// Workflow ids as the server accepts them (docs/workflows.md): `^[a-z0-9][a-z0-9_-]{0,63}$`.

export const WORKFLOW_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const WORKFLOW_ID_MAX = 64;
export const WORKFLOW_ID_RULE = 'Use lowercase letters, digits, - and _, starting with a letter or digit, at most 64 characters.';

// Letters that Unicode decomposition does not turn into plain ASCII.
const SPECIAL: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', ł: 'l', đ: 'd', þ: 'th', ð: 'd', ı: 'i' };

export function isValidWorkflowId(id: string): boolean {
  return WORKFLOW_ID_PATTERN.test(id);
}

/** Why `id` is not accepted, or null when it is. */
export function workflowIdProblem(id: string, taken: Iterable<string> = []): string | null {
  if (id === '') return 'Enter an id.';
  if (id.length > WORKFLOW_ID_MAX) return `At most ${WORKFLOW_ID_MAX} characters (this one has ${id.length}).`;
  if (!isValidWorkflowId(id)) return WORKFLOW_ID_RULE;
  for (const other of taken) if (other === id) return `A workflow with the id ${id} exists already: choose another one.`;
  return null;
}

/**
 * The id a name suggests: lowercase ASCII, accents dropped, every other run of characters one
 * dash, no dash at either end, cut to 64 characters. "Mein Überblick: CPA (Meta)" gives
 * "mein-uberblick-cpa-meta". A name without any letter or digit gives "".
 */
export function idFromName(name: string): string {
  const ascii = name
    .toLowerCase()
    .replace(/[ßæøœłđþðı]/g, (c) => SPECIAL[c] ?? c)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '');
  const slug = ascii
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+/, '')
    .replace(/-+$/, '');
  return slug.slice(0, WORKFLOW_ID_MAX).replace(/-+$/, '');
}

/** `base`, or `base-2`, `base-3`... whichever is not taken (kept within 64 characters). */
export function uniqueId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${base.slice(0, WORKFLOW_ID_MAX - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (!used.has(candidate)) return candidate;
  }
}
