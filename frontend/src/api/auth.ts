/**
 * The bearer token: read once from `?token=` (printed by `fluxops serve`), kept in sessionStorage,
 * and stripped from the address bar so it does not end up in history or screenshots.
 */
const KEY = "fluxops.token";

export interface LocationLike {
  href: string;
}

/** Pure: the token in a URL and the URL without it. */
export function splitToken(href: string): { token: string | null; cleanHref: string } {
  const url = new URL(href);
  const token = url.searchParams.get("token");
  if (token === null) return { token: null, cleanHref: href };
  url.searchParams.delete("token");
  return { token, cleanHref: url.toString() };
}

let cached: string | null = null;

export function initToken(): string | null {
  const { token, cleanHref } = splitToken(window.location.href);
  if (token) {
    sessionStorage.setItem(KEY, token);
    window.history.replaceState(null, "", cleanHref);
  }
  cached = sessionStorage.getItem(KEY);
  return cached;
}

export function getToken(): string | null {
  return cached;
}
