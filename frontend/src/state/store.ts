/**
 * A minimal observable store: a value, pure updaters and subscribers. Each slice owns one store,
 * so a component re-renders only for the slice it reads (useSyncExternalStore).
 */
import { useSyncExternalStore } from "react";

export interface Store<T> {
  get(): T;
  update(fn: (s: T) => T): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    update(fn) {
      const next = fn(state);
      if (next !== state) {
        state = next;
        listeners.forEach((l) => l());
      }
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}
