/** Loading the risk layer's rows: the top of the served model's ranking (by probability). */
import { consequenceKey, listRiskAssets } from "./riskApi";
import { riskStore, toMapRows } from "./riskState";

/** The map shows the top `limit` assets by probability (the server's page maximum). */
export async function loadRiskMap(limit = 1000): Promise<void> {
  try {
    const page = await listRiskAssets({ sort: "-probability", limit });
    const key = consequenceKey(page.assets);
    riskStore.update((s) => ({ ...s, map: toMapRows(page, key), mapError: null }));
  } catch (e) {
    riskStore.update((s) => ({ ...s, mapError: e instanceof Error ? e.message : String(e) }));
  }
}
