/**
 * Drawing a selection on the map with the mouse, through MapLibre's own events: in lasso mode a
 * press-drag-release draws the outline; in radius mode the press is the centre and the release the
 * edge. Panning is off while a tool is active and back on after. The answer comes from the spatial
 * endpoints (`runSelection`).
 */
import { useEffect } from "react";
import type { Map as MlMap, MapMouseEvent } from "maplibre-gl";
import type { MapProbe } from "../../map/MapView";
import { layersStore, setSelection } from "./layersState";
import { haversineM, lassoRing } from "./selectionTotals";
import { runSelection } from "./layersApi";

const MAX_RADIUS_M = 50_000;

function theMap(): MlMap | null {
  return (window as unknown as { __fluxops?: MapProbe }).__fluxops?.map ?? null;
}

export function useSelectionTool(mode: "off" | "lasso" | "radius"): void {
  useEffect(() => {
    const map = theMap();
    if (!map || mode === "off") return;
    let down = false;
    const pts: [number, number][] = [];
    const at = (e: MapMouseEvent): [number, number] => [e.lngLat.lng, e.lngLat.lat];
    const onDown = (e: MapMouseEvent) => {
      down = true;
      pts.length = 0;
      pts.push(at(e));
      e.preventDefault();
    };
    const onMove = (e: MapMouseEvent) => {
      if (!down) return;
      if (mode === "lasso") pts.push(at(e));
      else pts[1] = at(e);
      layersStore.update((s) => setSelection(s, { drawing: pts.slice() }));
    };
    const onUp = (e: MapMouseEvent) => {
      if (!down) return;
      down = false;
      if (mode === "lasso") {
        pts.push(at(e));
        // a vertex every ~3 px at this zoom: enough for the outline, few enough for the server
        const ring = lassoRing(pts, 3 * (360 / (512 * 2 ** map.getZoom())));
        layersStore.update((s) => setSelection(s, { drawing: [] }));
        if (ring) void runSelection({ kind: "polygon", ring });
      } else {
        const r = pts.length === 2 ? haversineM(pts[0], pts[1]) : 0;
        layersStore.update((s) => setSelection(s, { drawing: [] }));
        if (r > 0) void runSelection({ kind: "radius", centre: pts[0], radiusM: Math.min(MAX_RADIUS_M, r) });
      }
    };
    map.dragPan.disable();
    map.getCanvas().style.cursor = "crosshair";
    map.on("mousedown", onDown);
    map.on("mousemove", onMove);
    map.on("mouseup", onUp);
    return () => {
      map.off("mousedown", onDown);
      map.off("mousemove", onMove);
      map.off("mouseup", onUp);
      map.dragPan.enable();
      map.getCanvas().style.cursor = "";
    };
  }, [mode]);
}
