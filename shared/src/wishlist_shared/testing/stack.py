"""Starts the platform's processes for a system test, wired to that test's servers."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from wishlist_shared.testing.databases import TestDatabase
from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import ServiceProcess, free_port
from wishlist_shared.testing.servers import Servers

FACTORIES = {
    "auth": "auth.main:create_app",
    "wishlists": "wishlists.main:create_app",
    "notifier": "notifier.main:create_app",
    "gateway": "gateway.main:create_app",
}
SERVICES = ("auth", "wishlists", "notifier")
UNTHROTTLED: dict[str, dict[str, str]] = {
    "gateway": {
        "GATEWAY_RATE_LIMIT_REQUESTS": "100000000",
        "GATEWAY_AUTH_FAILURE_LIMIT": "100000000",
    },
    "auth": {
        "AUTH_LOGIN_FAILURES_PER_ACCOUNT": "100000000",
        "AUTH_LOGIN_FAILURES_PER_ADDRESS": "100000000",
    },
}
"""Overrides for a platform under generated load (fuzzing, faults, soak, benchmarks):
thousands of requests from 127.0.0.1 are the test, not an abuser."""
JWKS_PATH = "/api/v1/auth/jwks.json"


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(f"{url}/readyz")).status_code == 200
    except httpx.TransportError:
        return False


@dataclass(frozen=True)
class Namespace:
    """Names no other test uses: its exchange, its queues, its Redis keys."""

    exchange: str
    queue_prefix: str
    redis_prefix: str

    @classmethod
    def fresh(cls) -> Namespace:
        tag = uuid.uuid4().hex[:12]
        return cls(exchange=f"t.{tag}.events", queue_prefix=f"t.{tag}.", redis_prefix=f"t:{tag}:")


@dataclass
class Stack:
    servers: Servers
    database: TestDatabase
    namespace: Namespace
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    # Ports are chosen up front so that every process can be told where the
    # others are, whatever order they start in.
    ports: dict[str, int] = field(default_factory=lambda: {n: free_port() for n in FACTORIES})
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    """Each process's settings overrides as last started, for starting it again."""

    def url(self, component: str) -> str:
        return f"http://127.0.0.1:{self.ports[component]}"

    def env(self, component: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
        p = component.upper() + "_"
        env = {
            p + "REDIS_URL": self.servers.redis_url,
            p + "REDIS_PREFIX": self.namespace.redis_prefix,
            p + "JWKS_URL": self.url("auth") + JWKS_PATH,
            # Stopping a process in a test need not wait for clients to let go
            # of its connections; the tests of graceful shutdown set a drain.
            p + "SHUTDOWN_DRAIN_SECONDS": "0",
        }
        if component in SERVICES:
            env[p + "DATABASE_URL"] = self.database.urls[component]
            env[p + "RABBITMQ_URL"] = self.servers.rabbitmq_url
            env[p + "EVENTS_EXCHANGE"] = self.namespace.exchange
            env[p + "QUEUE_PREFIX"] = self.namespace.queue_prefix
            # Every test makes a namespace of quorum queues, and RabbitMQ slows
            # down as they pile up (each is a Raft group): unused ones go soon.
            env[p + "QUEUE_EXPIRY_SECONDS"] = "120"
            # Up to 8 connections each (pool and overflow), not 20: `make test`
            # runs platforms on two workers side by side against one server
            # with PostgreSQL's default 100 connections.
            env[p + "DB_POOL_SIZE"] = "4"
        if component == "gateway":
            for service in SERVICES:
                env[f"GATEWAY_{service.upper()}_URL"] = self.url(service)
        env.update(overrides or {})
        return env

    async def start(self, component: str, **overrides: str) -> ServiceProcess:
        self.overrides[component] = overrides
        process = ServiceProcess(
            component,
            FACTORIES[component],
            self.env(component, overrides),
            port=self.ports[component],
        )
        # Known before it is up, so that stop() ends it even if its start is
        # interrupted.
        self.processes[component] = process
        await process.start()
        return process

    async def start_platform(
        self, overrides: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        """Starts every service, then the gateway, and waits until all are ready.

        Ready, not just alive: a service's queues exist only once it is ready,
        and an event published before then would not reach it.
        """
        overrides = overrides or {}
        # The services need nothing of each other to start (tokens are checked
        # against auth's keys on first use), so they start side by side.
        await asyncio.gather(*(self.start(s, **overrides.get(s, {})) for s in SERVICES))
        await self.start("gateway", **overrides.get("gateway", {}))
        await self.ready()

    async def restart(self, component: str, **overrides: str) -> ServiceProcess:
        await self.processes[component].stop()
        return await self.start(component, **overrides)

    def crash(self, component: str) -> None:
        """SIGKILL, as a crash or the OOM killer ends a process: no shutdown runs."""
        self.processes[component].kill()

    async def start_again(self, component: str) -> ServiceProcess:
        """Starts a stopped process with the settings it last had, as a supervisor would."""
        return await self.start(component, **self.overrides.get(component, {}))

    async def ready(self, timeout: float = 60) -> None:
        """Waits until every running process says it is ready."""
        async with httpx.AsyncClient(timeout=5) as client:
            for name in self.processes:
                await eventually(
                    functools.partial(_ready, client, self.url(name)),
                    timeout=timeout,
                    message=f"{name} never became ready",
                )

    async def stop(self) -> None:
        """Stops the gateway first, then the services side by side."""
        gateway = self.processes.get("gateway")
        if gateway is not None:
            await gateway.stop()
        await asyncio.gather(*(p.stop() for name, p in self.processes.items() if name != "gateway"))
