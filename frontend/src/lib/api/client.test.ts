import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { useSession } from "@/lib/auth/session";

import { authedFetch } from "./client";

const challenge = { "www-authenticate": "Bearer" };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function tokens(access: string): Response {
  return json(200, { access_token: access, refresh_token: null, token_type: "bearer", expires_in: 900 });
}

describe("authedFetch", () => {
  const calls: { url: string; auth: string | null; body: string | null }[] = [];

  beforeEach(() => {
    calls.length = 0;
    useSession.setState({ status: "authenticated", accessToken: "old", user: null });
  });
  afterEach(() => vi.unstubAllGlobals());

  function serve(answer: (url: string, auth: string | null) => Response) {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const request = typeof input === "string" ? new Request(new URL(input, "http://app.test"), init) : input;
        const auth = request.headers.get("authorization");
        calls.push({ url: new URL(request.url).pathname, auth, body: request.body ? await request.clone().text() : null });
        return answer(new URL(request.url).pathname, auth);
      }),
    );
  }

  it("renews an expired access token once and replays the request with its body", async () => {
    serve((url, auth) => {
      if (url === "/api/v1/auth/refresh") return tokens("new");
      return auth === "Bearer new" ? json(201, { ok: true }) : json(401, { status: 401 }, challenge);
    });
    const response = await authedFetch(new Request("http://app.test/api/v1/wishlists", { method: "POST", body: '{"title":"x"}' }));
    expect(response.status).toBe(201);
    expect(calls.map((c) => [c.url, c.auth])).toEqual([
      ["/api/v1/wishlists", "Bearer old"],
      ["/api/v1/auth/refresh", null],
      ["/api/v1/wishlists", "Bearer new"],
    ]);
    expect(calls[2]?.body).toBe('{"title":"x"}');
    expect(useSession.getState().accessToken).toBe("new");
  });

  it("leaves a 401 about a password alone: a new token would not change it", async () => {
    serve(() => json(401, { status: 401, type: "/problems/wrong-password" }));
    const response = await authedFetch(new Request("http://app.test/api/v1/auth/me/password", { method: "POST", body: "{}" }));
    expect(response.status).toBe(401);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/me/password"]);
  });

  it("shares one renewal among requests that fail together", async () => {
    serve((url, auth) => {
      if (url === "/api/v1/auth/refresh") return tokens("new");
      return auth === "Bearer new" ? json(200, {}) : json(401, {}, challenge);
    });
    const results = await Promise.all(
      ["a", "b", "c"].map((p) => authedFetch(new Request(`http://app.test/api/v1/${p}`))),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(calls.filter((c) => c.url === "/api/v1/auth/refresh")).toHaveLength(1);
  });

  it("signs out when the session cannot be renewed", async () => {
    serve((url) => (url === "/api/v1/auth/refresh" ? json(401, {}) : json(401, {}, challenge)));
    const response = await authedFetch(new Request("http://app.test/api/v1/wishlists"));
    expect(response.status).toBe(401);
    expect(useSession.getState()).toMatchObject({ status: "anonymous", accessToken: null });
  });
});
