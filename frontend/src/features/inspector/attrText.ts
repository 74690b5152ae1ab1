/**
 * One attribute value as the inspector shows it. A year ("install_year": 1979) is a label, not a
 * quantity: it never gets a thousands separator ("1979", not "1,979"). Other numbers are grouped and
 * rounded (integers whole, others to 2 decimals), timestamps are shown in the utility's zone.
 */
import { fmt, str } from "../../api/endpoints";
import { timeText } from "../common/format";

const YEAR_KEY = /(^|_)year$/i;

export function attrText(key: string, value: unknown, timeZone: string): string {
  if (typeof value === "number") {
    if (YEAR_KEY.test(key) && Number.isInteger(value)) return String(value);
    return fmt(value, Number.isInteger(value) ? 0 : 2);
  }
  return timeText(value, timeZone) ?? str(value);
}
