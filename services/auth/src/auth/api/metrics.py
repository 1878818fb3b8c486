"""Auth's own Prometheus metrics, beside the request metrics every app has.

Logins by outcome answer what ``http_requests_total`` cannot tell apart: a
401 from a typo, a 429 from the throttle, a credential-stuffing wave. Reset
requests by outcome likewise: every one of them answers 202.
"""

from __future__ import annotations

from prometheus_client import Counter

LOGIN_ATTEMPTS = Counter(
    "auth_login_attempts",
    "Logins by outcome (success; failed: unknown email or wrong password;"
    " throttled: refused with 429 before the password was checked)",
    ["outcome"],
)

PASSWORD_RESET_REQUESTS = Counter(
    "auth_password_reset_requests",
    "Password-reset requests by outcome, counted once handled after the 202 (sent: a token"
    " went to the outbox; unknown: no account has the address; throttled: too many for the"
    " address; failed: an error, logged)",
    ["outcome"],
)
