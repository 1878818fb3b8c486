"""Schemathesis against the gateway's public OpenAPI document, as a signed-in client.

The whole platform runs as real processes; Schemathesis loads the merged
document from the running gateway and sends what it generates from it
(examples, coverage, fuzzing, and stateful sequences over the links it infers
between operations), with a bearer token for the operations that need one.
Every response must be no 5xx, and its status, content type and body must be
what the document says. The run is bounded (examples per operation, steps per
sequence, a fixed seed, no time cap that would make the cases depend on the
machine) so that CI can afford it and gets the same cases every time; the
number of cases tried is printed to the terminal whether or not output is
captured. docs/reliability.md describes the run and its latest numbers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.engine import events
from schemathesis.engine.statistic import Statistic

from wishlist_shared.testing.stack import UNTHROTTLED, Stack

pytestmark = [pytest.mark.system, pytest.mark.timeout(600)]

API = "/api/v1"
PASSWORD = "correct horse battery"
SEED = 20261130
MAX_EXAMPLES = 50
MAX_STATEFUL_STEPS = 10
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Need only a working token to answer 2xx: if one of them never did, the run
# was not signed in and proved little.
SIGNED_IN = {
    "GET /api/v1/auth/me",
    "GET /api/v1/wishlists",
    "POST /api/v1/wishlists",
    "GET /api/v1/wishlists/shared-with-me",
    "GET /api/v1/reservations",
    "GET /api/v1/notifications",
    "POST /api/v1/realtime/ticket",
}
# Ends the account whose token the run uses; every later case would be a 401.
EXCLUDED = ("DELETE /api/v1/auth/me",)


async def person(http: httpx.AsyncClient, name: str) -> tuple[str, str]:
    """A registered, signed-in user: (email, access token)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "display_name": name}
    registered = await http.post(f"{API}/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    login = await http.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return email, str(login.json()["access_token"])


async def seed_data(http: httpx.AsyncClient) -> str:
    """Lists, items, a share and a link, so that ids exist; returns the fuzzer's email."""
    _, owner = await person(http, "Olive")
    fuzzer_email, fuzzer = await person(http, "Fuzz")
    as_owner = {"Authorization": f"Bearer {owner}"}
    as_fuzzer = {"Authorization": f"Bearer {fuzzer}"}
    shared = (
        await http.post(f"{API}/wishlists", json={"title": "Shared"}, headers=as_owner)
    ).json()
    item = await http.post(
        f"{API}/wishlists/{shared['id']}/items",
        json={"title": "Kite", "quantity": 3, "price": "19.99", "currency": "EUR"},
        headers=as_owner,
    )
    assert item.status_code == 201, item.text
    share = await http.post(
        f"{API}/wishlists/{shared['id']}/shares", json={"email": fuzzer_email}, headers=as_owner
    )
    assert share.status_code in (200, 201), share.text
    reserved = await http.post(
        f"{API}/wishlists/{shared['id']}/items/{item.json()['id']}/reservations",
        json={"quantity": 1},
        headers=as_fuzzer,
    )
    assert reserved.status_code == 201, reserved.text
    own = await http.post(f"{API}/wishlists", json={"title": "Mine"}, headers=as_fuzzer)
    assert own.status_code == 201, own.text
    link = await http.post(f"{API}/wishlists/{own.json()['id']}/link", headers=as_fuzzer)
    assert link.status_code == 201, link.text
    return fuzzer_email


def config(base_url: str, email: str) -> schemathesis.Config:
    generation = {"max-examples": MAX_EXAMPLES, "deterministic": True}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "workers": 1,
            # Nothing persists between runs: CI gets the same cases every time.
            "cache": {"enabled": False},
            # Logs in again whenever a 401 says the token died (a fuzzed logout
            # ends the caller's session too).
            "auth": {
                "dynamic": {
                    "openapi": {
                        "bearerAuth": {
                            "path": f"{API}/auth/login",
                            "payload": {"email": email, "password": PASSWORD},
                            "extract_selector": "/access_token",
                        }
                    }
                }
            },
            "generation": generation,
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
            },
            "phases": {"stateful": {"max-steps": MAX_STATEFUL_STEPS}},
            "operations": [{"include-name": name, "enabled": False} for name in EXCLUDED],
        }
    )


@dataclass
class Outcome:
    statistic: Statistic = field(default_factory=Statistic)
    phases: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # Operations that answered 2xx at least once: a run whose token never
    # worked would pass every check on 401s alone.
    succeeded: set[str] = field(default_factory=set)
    seconds: float = 0.0


def run(schema: Any) -> Outcome:
    outcome = Outcome()
    statistic, phases, errors = outcome.statistic, outcome.phases, outcome.errors
    started = time.monotonic()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
            for case_id, interaction in event.recorder.interactions.items():
                response = interaction.response
                if response is not None and 200 <= response.status_code < 300:
                    outcome.succeeded.add(event.recorder.cases[case_id].value.operation.label)
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            links = event.payload
            phases["links"] = f"{links.transitions_total} ({links.inferred_transitions} inferred)"
        elif isinstance(event, events.PhaseFinished):
            skipped = event.phase.skip_reason
            phases[event.phase.name.value] = f"{event.status.value}" + (
                f" ({skipped.value})" if skipped else ""
            )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    outcome.seconds = time.monotonic() - started
    return outcome


def describe(statistic: Statistic) -> str:
    lines = []
    for label, groups in statistic.failures.items():
        for group in groups.values():
            for failure in group.failures:
                lines.append(f"{label}: {failure.title}: {failure.message}")
            lines.append(f"  reproduce: {group.code_sample}")
    return "\n".join(lines)


async def test_the_public_api_survives_fuzzing_and_keeps_to_its_document(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    await stack.start_platform(UNTHROTTLED)
    base_url = stack.url("gateway")
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as http:
        email = await seed_data(http)

    schema = schemathesis.openapi.from_url(
        f"{base_url}{API}/openapi.json", config=config(base_url, email)
    )
    # Schemathesis is synchronous; a thread keeps this test's event loop free.
    outcome = await asyncio.to_thread(run, schema)
    statistic, phases = outcome.statistic, outcome.phases

    with capsys.disabled():
        print(
            f"\nSchemathesis: {statistic.total_cases} cases on "
            f"{len(statistic.tested_operations)} operations in {outcome.seconds:.0f} s, "
            f"{len(outcome.succeeded)} answered 2xx, "
            f"{statistic.cases_with_failures} with failures; phases: "
            + ", ".join(f"{name} {status}" for name, status in phases.items())
        )
    assert not outcome.errors, "\n".join(outcome.errors)
    assert statistic.total_cases > 0
    assert not SIGNED_IN - outcome.succeeded, sorted(SIGNED_IN - outcome.succeeded)
    assert not statistic.failures, describe(statistic)
