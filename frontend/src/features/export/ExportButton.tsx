/** "Export" next to a table: the same list as CSV, GeoJSON or Parquet, from the server. */
import { useState } from "react";
import { downloadExport, EXPORT_FORMATS, type ExportFormat, type ExportSource } from "../../api/download";
import "./export.css";

export function ExportButton({ source, geo = true }: { source: ExportSource; geo?: boolean }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const run = async (format: ExportFormat) => {
    setBusy(true);
    setNote(null);
    try {
      await downloadExport(source, format);
    } catch (e) {
      setNote(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="export" data-testid="export">
      <select
        aria-label="export"
        disabled={busy}
        value=""
        onChange={(e) => {
          const f = e.target.value as ExportFormat;
          if (f) void run(f);
        }}
      >
        <option value="">{busy ? "exporting…" : "Export ▾"}</option>
        {EXPORT_FORMATS.filter((f) => geo || f.format !== "geojson").map((f) => (
          <option key={f.format} value={f.format}>
            {f.label}
          </option>
        ))}
      </select>
      {note && <span className="export-note error">{note}</span>}
    </span>
  );
}
