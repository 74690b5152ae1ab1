/** Find an asset, premise (address, customer, account, meter) or street and fly to it. */
import { useEffect, useMemo, useState } from "react";
import { api } from "../../api/endpoints";
import { useStore } from "../../state/store";
import { mapDataStore } from "../../state/mapData";
import { requestFlyTo, selectAsset, selectionStore } from "../../state/selection";
import { searchAssets, zoomFor, type Hit } from "./search";
import { mergeHits, remoteHits, remoteZoom, searchApi, type RemoteHit } from "./searchApi";

const DEBOUNCE_MS = 250;

export function SearchBox() {
  const data = useStore(mapDataStore);
  const [q, setQ] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const [remote, setRemote] = useState<RemoteHit[]>([]);
  const local = useMemo(() => (data.assets ? searchAssets(data.assets, q) : []), [data.assets, q]);

  // Premises, streets and meters are not in the map payload: ask the server as the user types.
  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) {
      setRemote([]);
      return;
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      searchApi(text, ctl.signal)
        .then((body) => setRemote(remoteHits(body)))
        .catch(() => setRemote([]));
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [q]);

  const hits = mergeHits(local, remote);
  const done = () => {
    setQ("");
    setRemote([]);
    setNote(null);
  };
  const go = (h: Hit | RemoteHit) => {
    if ("row" in h) {
      const a = data.assets!;
      selectionStore.update((s) => requestFlyTo(selectAsset(s, h.id), a.lon[h.row], a.lat[h.row], zoomFor(a.typeNames[a.typeCode[h.row]])));
    } else if (h.kind === "street") {
      selectionStore.update((s) => requestFlyTo(s, h.lon, h.lat, remoteZoom(h.kind)));
    } else {
      selectionStore.update((s) => requestFlyTo(selectAsset(s, h.id), h.lon, h.lat, remoteZoom(h.kind)));
    }
    done();
  };

  // Nothing matched as typed: try it as an exact asset id.
  const exact = async () => {
    try {
      const d = await api.asset(q.trim());
      selectionStore.update((s) => requestFlyTo(selectAsset(s, d.asset_id), d.lon, d.lat, zoomFor(d.asset_type)));
      done();
    } catch (e) {
      setNote(e instanceof Error ? `nothing found for “${q.trim()}”: ${e.message}` : `nothing found for “${q.trim()}”`);
    }
  };

  return (
    <div className="search">
      <input
        data-testid="search-input"
        placeholder="Search address, customer, account, meter, transformer, street…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            if (!q.trim()) return; // nothing typed: nothing to look up
            if (hits.length > 0) go(hits[0]);
            else void exact();
          }
        }}
      />
      {hits.length > 0 && (
        <ul className="search-hits" data-testid="search-hits">
          {hits.map((h) => (
            <li key={`${"row" in h ? "map" : h.kind}:${h.id}`} onClick={() => go(h)}>
              {"row" in h ? (
                h.label
              ) : (
                <>
                  {h.kind === "meter" ? "premise" : h.kind} {h.label}
                  {h.detail && <span className="muted"> · {h.detail}</span>}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {note && <div className="search-note">{note}</div>}
    </div>
  );
}
