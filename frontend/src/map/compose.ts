/**
 * Which layers to draw, from state: a pure function so that MapView stays a thin shell and the
 * zoom rules can be tested without a browser. Colour arrays are recomputed only when the status
 * or palette changes (`colourKey`), never per frame.
 */
import type { Layer } from "@deck.gl/core";
import type { MapAssets } from "./assets";
import { perSegmentColours } from "./geometry";
import { buildCascadeLayers, type CascadeLayerData } from "./layers/cascade";
import { buildEquipmentLayer } from "./layers/equipment";
import { buildFeederLayer } from "./layers/feeders";
import { buildMeterLayer } from "./layers/meters";
import { buildOutageLayer, type OutageLayerData } from "./layers/outages";
import { buildSelectionLayer } from "./layers/selection";
import { buildSubstationLayer, radiusForCustomers } from "./layers/substations";
import { buildSubstationOutageLayers } from "./layers/substationOutages";
import { buildReverseFlowLayer } from "./layers/reverseFlow";
import { PALETTES, STATUS, type MapPalette, type StatusCode } from "./palette";
import { colourRows, substationDiscStatus } from "./status";
import type { SubstationOutages } from "./substationOutages";
import { ZOOM } from "./zoom";
import type { MapGeometry, MeterData } from "../state/mapData";

export interface Colours {
  key: string;
  substations: Uint8Array;
  substationRadii: Float32Array;
  lineSegments: Uint8Array;
  transformers: Uint8Array;
  poles: Uint8Array;
  switches: Uint8Array;
  protective: Uint8Array;
  meters: Uint8Array | null;
}

/** Customers per substation row: from the payload when it carries them, else from the API list. */
export function substationRadii(a: MapAssets, g: MapGeometry, customersBySubstation: Map<string, number>): Float32Array {
  const out = new Float32Array(g.substations.rows.length);
  g.substations.rows.forEach((r, j) => {
    const fromPayload = a.customers[r];
    const c = Number.isNaN(fromPayload) ? (customersBySubstation.get(a.ids[r]) ?? 0) : fromPayload;
    out[j] = radiusForCustomers(c);
  });
  return out;
}

export function computeColours(
  a: MapAssets,
  g: MapGeometry,
  status: Uint8Array,
  palette: MapPalette,
  radii: Float32Array,
  meters: MeterData | null,
  key: string,
): Colours {
  const pal = PALETTES[palette];
  // A disc's fill is the substation's own state (out only when it is, else its most loaded feeder),
  // never the worst status of anything under it; outages below it are drawn as a share (composeLayers).
  const disc = substationDiscStatus(a, status, g.substations.rows);
  const sub = new Uint8Array(g.substations.rows.length * 4);
  disc.forEach((code, j) => sub.set(pal[code as StatusCode], 4 * j));
  let meterColours: Uint8Array | null = null;
  if (meters) {
    // Meters take their transformer's status (a meter is out when its transformer is).
    meterColours = new Uint8Array(meters.ids.length * 4);
    meters.transformerRows.forEach((row, j) => {
      meterColours!.set(pal[(row < 0 || row >= status.length ? 0 : status[row]) as StatusCode], 4 * j);
    });
  }
  return {
    key,
    substations: sub,
    substationRadii: radii,
    lineSegments: perSegmentColours(g.segments, colourRows(status, g.lines.rows, palette)),
    transformers: colourRows(status, g.transformers.rows, palette),
    poles: colourRows(status, g.poles.rows, palette),
    switches: colourRows(status, g.switches.rows, palette),
    protective: colourRows(status, g.protective.rows, palette),
    meters: meterColours,
  };
}

export interface ComposeInput {
  assets: MapAssets;
  geometry: MapGeometry;
  colours: Colours;
  zoom: number;
  selectedRow: number;
  selectedPosition: [number, number] | null;
  meters: MeterData | null;
  outages: OutageLayerData | null;
  outageKey: string;
  cascade: CascadeLayerData | null;
  currentWave: number;
  focusWave: number;
  /** customers out per substation disc (same order as geometry.substations) */
  substationOutages?: SubstationOutages | null;
  /** changes whenever the outage figures change */
  outageDataKey?: string;
  /** the palette the live layers use; its "out" colour fills the outage share */
  palette?: MapPalette;
  /** a cascade simulation is on screen: its waves are drawn (and only then) */
  simulating?: boolean;
  /** per map row: 1 on segments with reverse flow (power flow), null when unknown */
  reverseFlow?: Uint8Array | null;
}

export function composeLayers(i: ComposeInput): Layer[] {
  const z = i.zoom;
  const street = z >= ZOOM.streetFrom;
  const layers: Layer[] = [
    buildFeederLayer(
      { segments: i.geometry.segments, colours: i.colours.lineSegments },
      { visible: z >= ZOOM.districtFrom - 0.5, colourKey: i.colours.key, widthPx: street ? 3 : 1.5 },
    ),
    ...(i.reverseFlow && !i.simulating
      ? [
          buildReverseFlowLayer(
            { segments: i.geometry.segments, lines: i.geometry.lines, reverse: i.reverseFlow },
            { visible: z >= ZOOM.districtFrom - 0.5, key: i.colours.key },
          ),
        ]
      : []),
    buildSubstationLayer(
      { points: i.geometry.substations, colours: i.colours.substations, radiiPx: i.colours.substationRadii },
      { visible: true, colourKey: i.colours.key + (z < ZOOM.districtFrom ? "m" : "d"), selectedRow: i.selectedRow },
    ),
  ];
  if (i.substationOutages && !i.simulating) {
    layers.push(
      ...buildSubstationOutageLayers(
        {
          positions: i.geometry.substations.positions,
          radiiPx: i.colours.substationRadii,
          share: i.substationOutages.share,
          customersOut: i.substationOutages.customersOut,
        },
        { visible: z < ZOOM.streetFrom, outColour: PALETTES[i.palette ?? "default"][STATUS.out], dataKey: i.outageDataKey ?? "" },
      ),
    );
  }
  if (i.outages && !i.simulating) layers.push(buildOutageLayer(i.outages, { visible: true, selectionKey: i.outageKey }));
  const equipment: [string, keyof MapGeometry, keyof Colours, number][] = [
    ["poles", "poles", "poles", 2.5],
    ["transformers", "transformers", "transformers", 4],
    ["switches", "switches", "switches", 5],
    ["protective-devices", "protective", "protective", 5],
  ];
  for (const [id, g, c, r] of equipment) {
    layers.push(
      buildEquipmentLayer(
        {
          points: i.geometry[g] as MapGeometry["poles"],
          colours: i.colours[c] as Uint8Array,
          isOpen: i.assets.isOpen,
          isTie: i.assets.isTie,
        },
        { id, visible: street, colourKey: i.colours.key, radiusPx: r },
      ),
    );
  }
  if (i.meters && i.colours.meters) {
    layers.push(
      buildMeterLayer(
        { positions: i.meters.positions, colours: i.colours.meters },
        { visible: z >= ZOOM.metersFrom, colourKey: i.colours.key },
      ),
    );
  }
  if (i.cascade && i.simulating) {
    layers.push(...buildCascadeLayers(i.cascade, { visible: true, currentWave: i.currentWave, focusWave: i.focusWave }));
  }
  layers.push(buildSelectionLayer(i.selectedPosition));
  return layers;
}
