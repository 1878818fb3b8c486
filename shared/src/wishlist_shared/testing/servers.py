"""Finding PostgreSQL, Redis and RabbitMQ for a test session."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Servers:
    postgres_admin_url: str
    """A superuser URL (libpq form) on the maintenance database."""
    redis_url: str
    rabbitmq_url: str
    source: str


def local_servers() -> Servers:
    return Servers(
        postgres_admin_url=os.environ.get(
            "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        redis_url=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        rabbitmq_url=os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        source="local",
    )


def docker_available() -> bool:
    try:
        import docker  # noqa: PLC0415 - only needed on the container path

        client = docker.from_env(timeout=3)
        client.ping()
    except Exception:  # noqa: BLE001 - any failure means "no engine to use"
        return False
    return True


@contextlib.contextmanager
def container_servers() -> Iterator[Servers]:
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415
    from testcontainers.rabbitmq import RabbitMqContainer  # noqa: PLC0415
    from testcontainers.redis import RedisContainer  # noqa: PLC0415

    with (
        PostgresContainer("postgres:16-alpine", driver=None) as pg,
        RedisContainer("redis:7-alpine") as redis,
        RabbitMqContainer("rabbitmq:3.13-alpine") as rabbit,
    ):
        pg_url = pg.get_connection_url().replace(f"/{pg.dbname}", "/postgres")
        redis_host = redis.get_container_host_ip()
        redis_port = redis.get_exposed_port(6379)
        rabbit_host = rabbit.get_container_host_ip()
        rabbit_port = rabbit.get_exposed_port(5672)
        yield Servers(
            postgres_admin_url=pg_url,
            redis_url=f"redis://{redis_host}:{redis_port}/0",
            rabbitmq_url=f"amqp://guest:guest@{rabbit_host}:{rabbit_port}/",
            source="containers",
        )


@contextlib.contextmanager
def discover() -> Iterator[Servers]:
    choice = os.environ.get("TEST_SERVERS", "auto")
    if choice == "containers" or (choice == "auto" and docker_available()):
        log.info("test servers: testcontainers")
        with container_servers() as servers:
            yield servers
    else:
        log.info("test servers: local (TEST_* environment variables)")
        yield local_servers()
