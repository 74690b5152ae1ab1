/** Find an asset, feeder, meter or customer by id or name and fly to it. */
import { useMemo, useState } from "react";
import { api } from "../../api/endpoints";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { searchAssets, zoomFor, type Hit } from "./search";

export function SearchBox() {
  const data = useStore(mapDataStore);
  const [q, setQ] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const hits = useMemo(() => (data.assets ? searchAssets(data.assets, q) : []), [data.assets, q]);

  const go = (h: Hit) => {
    const a = data.assets!;
    selectionStore.update((s) => requestFlyTo(selectAsset(s, h.id), a.lon[h.row], a.lat[h.row], zoomFor(a.typeNames[a.typeCode[h.row]])));
    setQ("");
    setNote(null);
  };

  // Meters and customers are not in the map payload: ask the API for the record and its position.
  const remote = async () => {
    try {
      const d = await api.asset(q.trim());
      selectionStore.update((s) => requestFlyTo(selectAsset(s, d.asset_id), d.lon, d.lat, zoomFor(d.asset_type)));
      setQ("");
      setNote(null);
    } catch (e) {
      setNote(e instanceof Error ? `no asset “${q.trim()}”: ${e.message}` : `no asset “${q.trim()}”`);
    }
  };

  return (
    <div className="search">
      <input
        data-testid="search-input"
        placeholder="Search id or name (substation, feeder, device, meter, customer)…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            if (!q.trim()) return; // nothing typed: nothing to look up
            if (hits.length > 0) go(hits[0]);
            else void remote();
          }
        }}
      />
      {hits.length > 0 && (
        <ul className="search-hits" data-testid="search-hits">
          {hits.map((h) => (
            <li key={h.id} onClick={() => go(h)}>
              {h.label}
            </li>
          ))}
        </ul>
      )}
      {note && <div className="search-note">{note}</div>}
    </div>
  );
}
