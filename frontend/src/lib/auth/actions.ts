/** Signing in and out: the calls that start and end a session in this browser. */
import { api, authedFetch, data } from "@/lib/api/client";
import { ApiError, problemOf } from "@/lib/api/problems";
import type { Tokens, User } from "@/lib/api/types";

import { COOKIE_MODE, refreshAccessToken, useSession } from "./session";

async function currentUser(token: string): Promise<User> {
  return data(api.GET("/api/v1/auth/me", { headers: { Authorization: `Bearer ${token}` } }));
}

/** On page load: a session from the refresh cookie, if this browser has one. */
export async function restoreSession(): Promise<void> {
  try {
    const token = await refreshAccessToken();
    if (token === null) return;
    const user = await currentUser(token);
    useSession.setState({ status: "authenticated", user });
  } catch {
    useSession.getState().signedOut();
  }
}

export async function logIn(email: string, password: string): Promise<User> {
  const tokens: Tokens = await data(
    api.POST("/api/v1/auth/login", { body: { email, password }, headers: COOKIE_MODE }),
  );
  const user = await currentUser(tokens.access_token);
  useSession.getState().signedIn(tokens, user);
  return user;
}

export async function register(email: string, password: string, displayName: string): Promise<User> {
  await data(
    api.POST("/api/v1/auth/register", {
      body: { email, password, display_name: displayName },
    }),
  );
  return logIn(email, password);
}

/**
 * Ends the session on the server (the cookie is cleared there) and here.
 *
 * The gateway admits a logout only with an access token; `authedFetch`
 * trades the cookie for a fresh one first if the one in memory has expired.
 */
export async function logOut(): Promise<void> {
  try {
    const response = await authedFetch(
      new Request(new URL("/api/v1/auth/logout", window.location.origin), {
        method: "POST",
        headers: COOKIE_MODE,
        credentials: "same-origin",
      }),
    );
    if (!response.ok && response.status !== 401) {
      throw new ApiError(response.status, await problemOf(response));
    }
  } finally {
    useSession.getState().signedOut();
  }
}

/** Asks for a reset link by email. The answer is the same whether or not the account exists. */
export async function requestPasswordReset(email: string): Promise<void> {
  await data(api.POST("/api/v1/auth/password-reset", { body: { email } }));
}

/** Sets a new password with the token of a reset link; every session of the account ends. */
export async function confirmPasswordReset(token: string, newPassword: string): Promise<void> {
  await data(api.POST("/api/v1/auth/password-reset/confirm", { body: { token, new_password: newPassword } }));
}
