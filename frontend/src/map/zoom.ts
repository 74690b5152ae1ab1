/**
 * Zoom bands: what the map shows at which scale. Metro: one aggregate per substation; district:
 * feeder line geometry; street: transformers, poles, switches and protective devices; closest: meters.
 * The breakpoints follow the seed's bands (9.5 / 10.8 / 12.2 / 13.5, seed-inventory §5.2) rounded.
 */
export const ZOOM = {
  districtFrom: 11,
  streetFrom: 13.5,
  metersFrom: 15.5,
} as const;

export type ZoomBand = "metro" | "district" | "street" | "closest";

export function zoomBand(zoom: number): ZoomBand {
  if (zoom >= ZOOM.metersFrom) return "closest";
  if (zoom >= ZOOM.streetFrom) return "street";
  if (zoom >= ZOOM.districtFrom) return "district";
  return "metro";
}
