// The typed HTTP client: openapi-fetch over the types generated from Django's OpenAPI
// document (schema.d.ts, `npm run gen:api`). Staff calls ride on the session cookie; unsafe
// ones carry the CSRF header (docs/protocol.md §2).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type ErrorBody = Schemas["ErrorBody"];

export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message);
  }
}

function cookie(name: string): string | null {
  const row = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return row ? decodeURIComponent(row.slice(name.length + 1)) : null;
}

export function csrfToken(): string {
  return cookie("csrftoken") ?? "";
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (!["GET", "HEAD", "OPTIONS"].includes(request.method)) request.headers.set("X-CSRFToken", csrfToken());
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin", headers: { Accept: "application/json" } });
api.use(csrf);

// Every API error has one shape ({"error": {"code", "message"}}); anything else (a proxy's
// HTML page, a dropped connection) becomes http_<status>.
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (error as { error?: ErrorBody } | undefined)?.error;
  throw new ApiError(body?.code ?? `http_${response.status}`, body?.message ?? response.statusText, response.status);
}
