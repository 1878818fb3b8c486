/**
 * The one way the app calls the gateway: typed by the generated OpenAPI paths.
 *
 * `authedFetch` adds the access token, and when a 401 says the token is no
 * good, trades the refresh cookie for a new one once and replays the request; if that fails too the user
 * is signed out. `data` unwraps a result or throws an `ApiError` built from
 * the problem details, so callers deal with one error type.
 */
import createClient from "openapi-fetch";

import { refreshAccessToken, useSession } from "@/lib/auth/session";

import { ApiError, problemOf } from "./problems";
import type { paths } from "./schema";

function withToken(request: Request, token: string | null): Request {
  const copy = new Request(request);
  if (token) copy.headers.set("Authorization", `Bearer ${token}`);
  return copy;
}

/**
 * A 401 about the access token (RFC 6750: it comes with a Bearer challenge),
 * as opposed to one about a password, which a new token would not change.
 */
function tokenRejected(response: Response): boolean {
  return response.status === 401 && /^bearer\b/i.test(response.headers.get("www-authenticate") ?? "");
}

export async function authedFetch(request: Request): Promise<Response> {
  // Kept before the first try: a request body can be read only once.
  const replay = request.clone();
  const response = await fetch(withToken(request, useSession.getState().accessToken));
  if (!tokenRejected(response) || request.url.includes("/api/v1/auth/refresh")) return response;
  const token = await refreshAccessToken();
  if (token === null) return response;
  return fetch(withToken(replay, token));
}

export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "http://127.0.0.1:3000" : window.location.origin,
  fetch: authedFetch,
  credentials: "same-origin",
});

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The result's data, or an `ApiError` thrown with its problem details. */
export async function data<T>(pending: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await pending;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(0, { detail: "network error" });
  }
  const { response } = result;
  if (!response.ok) {
    const problem =
      result.error && typeof result.error === "object" ? result.error : await problemOf(response);
    throw new ApiError(response.status, problem as ApiError["problem"]);
  }
  return result.data as T;
}
