import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PRELOADED_PATHS, takePreloaded } from "./preload";
import { TILE_MODE_ABOVE } from "../features/layers/AssetTileMode";

const html = readFileSync(new URL("../../index.html", import.meta.url), "utf8");

describe("preloaded first requests", () => {
  it("index.html starts exactly the paths the client takes, with the same tile-mode threshold", () => {
    for (const p of PRELOADED_PATHS) expect(html).toContain(`"${p}"`);
    expect(html).toContain(`TILE_MODE_ABOVE = ${TILE_MODE_ABOVE}`);
  });

  it("hands each preloaded answer out once", async () => {
    const res = Promise.resolve(new Response("x"));
    (globalThis as unknown as { __fluxopsPreload?: Record<string, Promise<Response>> }).__fluxopsPreload = { "/api/kpis": res };
    expect(takePreloaded("/api/kpis")).toBe(res);
    expect(takePreloaded("/api/kpis")).toBeNull();
    expect(takePreloaded("/api/map/assets")).toBeNull();
  });
});
