// Light or dark, shared by every component that asks. Without a stored choice the theme follows
// the system setting, live; a choice made with the toggle is kept in localStorage.
import { useSyncExternalStore } from 'react';

export type Theme = 'light' | 'dark';
const STORAGE_KEY = 'flowpilot.theme';
const listeners = new Set<() => void>();
let current: Theme = 'light';

function storedTheme(): Theme | null {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

function systemQuery(): MediaQueryList | null {
  return typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
}

function setTheme(theme: Theme): void {
  current = theme;
  document.documentElement.dataset.theme = theme;
  for (const listener of [...listeners]) listener();
}

/** Sets the theme before the first paint, so a dark-mode user never sees a white flash. */
export function initTheme(): void {
  const query = systemQuery();
  setTheme(storedTheme() ?? (query?.matches ? 'dark' : 'light'));
  query?.addEventListener('change', () => {
    if (!storedTheme()) setTheme(query.matches ? 'dark' : 'light');
  });
}

export function toggleTheme(): void {
  const next: Theme = current === 'dark' ? 'light' : 'dark';
  try {
    window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  setTheme(next);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, () => current, () => current);
}
