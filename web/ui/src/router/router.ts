// A small router over the History API. The page paths come from routes.json, the same list the
// server uses to answer with index.html, so the two cannot disagree about which pages exist.
import { useSyncExternalStore } from 'react';
import routes from '../../routes.json';

export interface RouteMatch {
  pattern: string;
  params: Record<string, string>;
}

interface CompiledRoute {
  pattern: string;
  regex: RegExp;
  names: string[];
}

function compile(pattern: string): CompiledRoute {
  const names: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) {
        names.push(param[1] ?? '');
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern, regex: new RegExp(`^${source}/?$`), names };
}

export const PAGE_PATTERNS: string[] = routes.pages;
const compiled = PAGE_PATTERNS.map(compile);

export function matchRoute(pathname: string): RouteMatch | null {
  for (const route of compiled) {
    const m = route.regex.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { pattern: route.pattern, params };
  }
  return null;
}

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const listener of [...listeners]) listener();
}

export interface Location {
  pathname: string;
  search: URLSearchParams;
  href: string;
}

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const url = new URL(href, 'http://local');
  return { pathname: url.pathname, search: url.searchParams, href };
}
