/** The utility's time zone (every time on screen is shown in it), kept in this browser. */
import { useEffect } from "react";
import { useStore } from "../../state/store";
import { setTimeZone, uiStore } from "../../state/ui";
import { zoneAbbreviation } from "../common/format";

const STORAGE_KEY = "fluxops.timeZone";
const ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles", "America/Phoenix", "Europe/Berlin", "UTC"];

export function TimeZonePicker() {
  const ui = useStore(uiStore);
  useEffect(() => {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved) uiStore.update((s) => setTimeZone(s, saved));
  }, []);
  const zones = ZONES.includes(ui.timeZone) ? ZONES : [ui.timeZone, ...ZONES];
  return (
    <label className="tz" title="Time zone every time is shown in">
      <select
        data-testid="time-zone"
        value={ui.timeZone}
        onChange={(e) => {
          uiStore.update((s) => setTimeZone(s, e.target.value));
          localStorage.setItem(STORAGE_KEY, e.target.value);
        }}
      >
        {zones.map((z) => (
          <option key={z} value={z}>
            {(z.split("/").pop() ?? z).replace(/_/g, " ")} ({zoneAbbreviation(z)})
          </option>
        ))}
      </select>
    </label>
  );
}
