/**
 * Human labels for the code names the backend uses (scenarios, customer classes, columns), so the
 * control room reads "Summer peak, 42 °C" and "Small C&I", not summer_peak and small_ci. Unknown
 * codes are de-snaked and capitalised rather than shown raw.
 */
const LABELS: Record<string, string> = {
  // customer classes
  residential: "Residential",
  small_ci: "Small C&I",
  large_ci: "Large C&I",
  commercial: "Commercial",
  industrial: "Industrial",
  critical: "Critical facility",
  // cascade scenarios
  summer_peak: "Summer peak",
  winter_storm: "Winter storm",
  hurricane: "Hurricane",
  custom: "Custom scenario",
  normal: "Normal conditions",
  // columns and measures
  hot_spot_c: "Hot spot °C",
  hotspot_c: "Hot spot °C",
  top_oil_c: "Top oil °C",
  loading_pct: "Loading %",
  aging_factor: "Aging factor",
  faa: "Aging factor",
  health_pct: "Health %",
  kw_avg: "Average kW",
  kw_max: "Peak kW",
  v_pu: "Voltage (pu)",
  customers_out: "Customers out",
  customers_affected: "Customers affected",
  critical_customers_affected: "Critical customers",
  peak_kw: "Peak kW",
  rating_kva: "Rating kVA",
  v_hv_kv: "HV side kV",
  v_lv_kv: "LV side kV",
  lon: "Longitude",
  lat: "Latitude",
  // outage and work-order states
  proposed: "Proposed",
  confirmed: "Confirmed",
  restored: "Restored",
  merged: "Merged",
  lights_out: "Single customer",
  in_progress: "In progress",
  outage_repair: "Outage repair",
  design_peak: "Design peak",
  // outage causes (IEEE 1782 categories)
  equipment: "Equipment failure",
  vegetation: "Vegetation",
  animal: "Animal",
  lightning: "Lightning",
  weather: "Weather (not lightning)",
  public: "Public (vehicle, dig-in)",
  utility: "Utility operation",
  power_supply: "Loss of supply",
  unknown: "Unknown",
  cancelled: "Cancelled",
  ami: "AMI",
  etr_model: "Restoration history",
};

/** Unit and abbreviation words inside snake_case names, written as people write them. */
const WORDS: Record<string, string> = {
  kw: "kW",
  kva: "kVA",
  kvar: "kvar",
  kwh: "kWh",
  kv: "kV",
  mw: "MW",
  mva: "MVA",
  mwh: "MWh",
  pct: "%",
  pu: "(pu)",
  km: "km",
  utc: "", // times are shown in the utility's zone with its abbreviation, not in UTC
  id: "ID",
  hv: "HV",
  lv: "LV",
  mv: "MV",
  ami: "AMI",
  etr: "ETR",
  a: "A", // amperes (ampacity_a, i_a, rating_a)
  c: "°C", // ambient_temp_c, hot_spot_c
  v: "V",
};

export function humanLabel(code: string): string {
  const known = LABELS[code] ?? LABELS[code.toLowerCase()];
  if (known) return known;
  const words = code
    .split(/[_-]+/)
    .filter(Boolean)
    .map((w) => WORDS[w.toLowerCase()] ?? w)
    .filter(Boolean)
    .join(" ");
  return words ? words[0].toUpperCase() + words.slice(1) : code;
}

/** A scenario with its defining condition, e.g. "Summer peak, 42 °C". */
export function scenarioLabel(code: string, ambientC?: number | null): string {
  const name = humanLabel(code);
  return typeof ambientC === "number" && Number.isFinite(ambientC) ? `${name}, ${Math.round(ambientC)} °C` : name;
}
