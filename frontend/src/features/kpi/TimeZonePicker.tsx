/** The utility's time zone (every time on screen is shown in it): the server's setting
 * (`FLUXOPS_UI__TIME_ZONE`, `GET /api/ui/config`) unless the operator picked another one in this browser. */
import { useEffect } from "react";
import { useStore } from "../../state/store";
import { setTimeZone, uiStore } from "../../state/ui";
import { zoneAbbreviation } from "../common/format";
import { getJson } from "../../api/client";

const STORAGE_KEY = "fluxops.timeZone";
const ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles", "America/Phoenix", "Europe/Berlin", "UTC"];

export function TimeZonePicker() {
  const ui = useStore(uiStore);
  useEffect(() => {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved) {
      uiStore.update((s) => setTimeZone(s, saved));
      return;
    }
    let alive = true;
    getJson<{ time_zone?: unknown }>("/api/ui/config")
      .then((c) => {
        if (alive && typeof c.time_zone === "string") uiStore.update((s) => setTimeZone(s, c.time_zone as string));
      })
      .catch(() => undefined); // an older server without the route: the built-in default stands
    return () => {
      alive = false;
    };
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
