/**
 * Fetch-on-mount with reload, for panels. A route the backend does not have yet is reported as
 * `missing`, so the panel can say so plainly instead of inventing data.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "./client";

export interface ApiState<T> {
  data: T | null;
  error: string | null;
  missing: boolean;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(fn: (() => Promise<T>) | null, deps: readonly unknown[]): ApiState<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  // loading from the first render when there is something to fetch: no "no rows" frame before the effect
  const [loading, setLoading] = useState(fn !== null);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  useEffect(() => {
    const f = fnRef.current;
    if (!f) return;
    let alive = true;
    setLoading(true);
    f()
      .then((d) => {
        if (!alive) return;
        setData(d);
        setError(null);
        setMissing(false);
      })
      .catch((e: unknown) => {
        if (!alive) return;
        setMissing(e instanceof ApiError && e.missing);
        setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, missing, loading, reload };
}

export function describeError(e: unknown): { message: string; missing: boolean } {
  if (e instanceof ApiError) return { message: e.message, missing: e.missing };
  return { message: e instanceof Error ? e.message : String(e), missing: false };
}
