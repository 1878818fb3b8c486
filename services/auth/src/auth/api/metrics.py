"""Auth's own Prometheus metrics, beside the request metrics every app has.

Logins by outcome answer what ``http_requests_total`` cannot tell apart: a
401 from a typo, a 429 from the throttle, a credential-stuffing wave.
"""

from __future__ import annotations

from prometheus_client import Counter

LOGIN_ATTEMPTS = Counter(
    "auth_login_attempts",
    "Logins by outcome (success; failed: unknown email or wrong password;"
    " throttled: refused with 429 before the password was checked)",
    ["outcome"],
)
