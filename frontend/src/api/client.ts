/**
 * The one place that talks HTTP. Every call carries the bearer token; error bodies
 * ({"code","message","details"}) become an `ApiError` the panels can show as-is.
 */
import { getToken } from "./auth";
import { takePreloaded } from "./preload";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
  /** The backend does not have this route (yet): panels say so instead of showing fake data. */
  get missing(): boolean {
    // An unknown route comes back as Starlette's 404 "Not Found" (or 405); a domain NotFoundError
    // always carries its own message naming the id.
    return this.status === 405 || (this.status === 404 && (this.message === "Not Found" || this.code === "not_found_route"));
  }
}

function headers(extra?: HeadersInit): Headers {
  const h = new Headers(extra);
  const token = getToken();
  if (token) h.set("Authorization", `Bearer ${token}`);
  return h;
}

async function fail(res: Response): Promise<never> {
  let code = "";
  let message = `${res.status} ${res.statusText}`;
  let details: unknown = null;
  try {
    const body = (await res.json()) as { code?: string; message?: string; details?: unknown; detail?: unknown };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.message === "string") message = body.message;
    else if (typeof body.detail === "string") {
      message = body.detail;
      // FastAPI's own 404 for an unknown route: {"detail": "Not Found"}.
      if (res.status === 404 && body.detail === "Not Found") code = "not_found_route";
    }
    details = body.details ?? null;
  } catch {
    if (res.status === 404) code = "not_found_route";
  }
  throw new ApiError(res.status, code, message, details);
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== null && v !== undefined && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * A GET: the answer index.html started for this path when there is one (api/preload.ts), else a fetch;
 * a preload that failed (network, or not wanted after all) falls back to a fetch of our own.
 */
function get(path: string, init: RequestInit): Promise<Response> {
  return takePreloaded(path)?.catch(() => fetch(path, init)) ?? fetch(path, init);
}

export async function getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  const res = await get(withQuery(path, query), { headers: headers(), signal });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

export async function sendJson<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers({ "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) return fail(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function getResponse(path: string, signal?: AbortSignal): Promise<Response> {
  const res = await get(path, { headers: headers(), signal });
  if (!res.ok) return fail(res);
  return res;
}

export async function getBytes(path: string, signal?: AbortSignal): Promise<ArrayBuffer> {
  const res = await get(path, { headers: headers({ Accept: "application/vnd.apache.arrow.stream" }), signal });
  if (!res.ok) return fail(res);
  return res.arrayBuffer();
}

/** EventSource cannot send headers: the token travels as `access_token`. */
export function eventSourceUrl(path: string): string {
  const token = getToken();
  return withQuery(path, token ? { access_token: token } : undefined);
}
