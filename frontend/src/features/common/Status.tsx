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

export function PanelState({
  loading,
  error,
  missing,
  what,
  children,
}: {
  loading: boolean;
  error: string | null;
  missing: boolean;
  what: string;
  children: ReactNode;
}) {
  if (missing) return <Missing what={what} />;
  if (error) return <div className="notice error">Could not load {what}: {error}</div>;
  if (loading && !children) return <div className="notice">Loading {what}…</div>;
  return <>{children}</>;
}
