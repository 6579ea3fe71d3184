import { useCallback, useEffect, useState } from 'react';
import { api } from './api';

interface Paged<Item> {
  items: Item[];
  /** The cursor of the next page; null on the last one. */
  next: string | null;
  error: unknown;
  loading: boolean;
  loadMore(): void;
  /** Reads the first page again. */
  reload(): void;
}

/**
 * A `{data, next}` list read page by page: `pathAfter(null)` is the first page, and whenever it
 * changes the list starts over; `loadMore` appends `pathAfter(next)`. Answers to a superseded
 * first page are dropped.
 */
export function usePages<Item>(pathAfter: (after: string | null) => string): Paged<Item> {
  const first = pathAfter(null);
  const [state, setState] = useState<{ items: Item[]; next: string | null; error: unknown; loading: boolean; path: string }>({ items: [], next: null, error: undefined, loading: true, path: first });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true, path: first }));
    api<{ data: Item[]; next: string | null }>(first).then(
      (page) => current && setState({ items: page.data, next: page.next, error: undefined, loading: false, path: first }),
      (error: unknown) => current && setState({ items: [], next: null, error, loading: false, path: first }),
    );
    return () => {
      current = false;
    };
  }, [first, generation]);
  const loadMore = useCallback(() => {
    if (!state.next) return;
    const from = state.path;
    api<{ data: Item[]; next: string | null }>(pathAfter(state.next)).then(
      (page) => setState((s) => (s.path === from ? { ...s, items: [...s.items, ...page.data], next: page.next } : s)),
      (error: unknown) => setState((s) => ({ ...s, error })),
    );
  }, [state.next, state.path, pathAfter]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { items: state.items, next: state.next, error: state.error, loading: state.loading, loadMore, reload };
}
