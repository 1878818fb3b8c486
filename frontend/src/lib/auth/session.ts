/**
 * The signed-in session: who the user is and their access token, in memory only.
 *
 * The refresh token never reaches JavaScript: auth keeps it in an httpOnly,
 * SameSite=Strict cookie when asked with `X-Refresh-Token-Transport: cookie`.
 * A page load (or a 401) trades that cookie for a fresh access token. Tabs
 * share the cookie, and a refresh token works once (reusing a spent one ends
 * the whole session), so refreshes are serialised across tabs with a Web
 * Lock and within a tab by sharing one promise.
 */
import { create } from "zustand";

import { ApiError, problemOf } from "@/lib/api/problems";
import type { Tokens, User } from "@/lib/api/types";

export const COOKIE_MODE = { "X-Refresh-Token-Transport": "cookie" } as const;

type Status = "loading" | "anonymous" | "authenticated";

interface SessionState {
  status: Status;
  user: User | null;
  accessToken: string | null;
  setUser: (user: User) => void;
  signedIn: (tokens: Tokens, user: User) => void;
  signedOut: () => void;
}

export const useSession = create<SessionState>()((set) => ({
  status: "loading",
  user: null,
  accessToken: null,
  setUser: (user) => set({ user }),
  signedIn: (tokens, user) => set({ status: "authenticated", accessToken: tokens.access_token, user }),
  signedOut: () => set({ status: "anonymous", user: null, accessToken: null }),
}));

let inFlight: Promise<string | null> | null = null;

async function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  if (typeof navigator !== "undefined" && navigator.locks) {
    return navigator.locks.request("wishlist-refresh", work);
  }
  return work();
}

async function exchangeCookie(): Promise<string | null> {
  const response = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: COOKIE_MODE,
    credentials: "same-origin",
  });
  if (response.status === 401) return null;
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const tokens = (await response.json()) as Tokens;
  useSession.setState({ accessToken: tokens.access_token });
  return tokens.access_token;
}

/**
 * A fresh access token from the refresh cookie, or null when the session is
 * over (then the app is signed out). Concurrent callers share one exchange.
 */
export function refreshAccessToken(): Promise<string | null> {
  inFlight ??= withRefreshLock(exchangeCookie)
    .then((token) => {
      if (token === null) useSession.getState().signedOut();
      return token;
    })
    .finally(() => {
      inFlight = null;
    });
  return inFlight;
}
