import type { NextConfig } from "next";

// The web app's only API origin is the gateway. The browser talks to this
// server alone (same origin: the refresh cookie stays first-party and no CORS
// is needed), and these rewrites pass `/api/*` and the `/ws` socket on to the
// gateway. Rewrites are fixed when the app is built, so WEB_GATEWAY_URL is a
// build-time setting. Behind nginx, `/api/` and `/ws` go straight to the
// gateway and these rewrites are never reached.
const gateway = (process.env.WEB_GATEWAY_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");

const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

const config: NextConfig = {
  // A build for another gateway (the end-to-end tests') goes elsewhere, so
  // it does not replace the one `make run` serves.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // The container image runs Next's self-contained server (`.next/standalone`);
  // `make run` keeps `next start`, which does not work with that output.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  reactStrictMode: true,
  poweredByHeader: false,
  async rewrites() {
    return [
      { source: "/api/:path*", destination: `${gateway}/api/:path*` },
      { source: "/ws", destination: `${gateway}/ws` },
    ];
  },
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default config;
