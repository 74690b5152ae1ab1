/** How a panel shows loading, errors and a backend route that does not exist yet. */
import type { ReactNode } from "react";

export function Missing({ what }: { what: string }) {
  return (
    <div className="notice missing" data-testid="backend-missing">
      The backend does not provide {what} yet (the route answered 404). Nothing is shown rather than invented
      figures.
    </div>
  );
}

/**
 * Missing route, error, loading, or the panel's content. While the first answer is coming the panel
 * says "Loading …" (never "no rows"); a reload over data already shown keeps the data in place.
 */
export function PanelState({
  loading,
  hasData = false,
  error,
  missing,
  what,
  children,
}: {
  loading: boolean;
  /** data from an earlier answer is on screen: a reload does not blank it */
  hasData?: boolean;
  error: string | null;
  missing: boolean;
  what: string;
  children: ReactNode;
}) {
  if (missing) return <Missing what={what} />;
  if (error) return <div className="notice error">Could not load {what}: {error}</div>;
  if (loading && !hasData)
    return (
      <div className="notice" data-testid="panel-loading">
        Loading {what}…
      </div>
    );
  return <>{children}</>;
}
