"""Finding PostgreSQL, Redis and RabbitMQ for a test session."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Servers:
    postgres_admin_url: str
    """A superuser URL (libpq form) on the maintenance database."""
    redis_url: str
    rabbitmq_url: str
    source: str
    controls: tuple[tuple[str, str, str], ...] = ()
    """(server, stop command, start command) for each server; for the fault suite."""

    def control(self, server: str) -> tuple[str, str] | None:
        """The shell commands that stop and start ``server``, if known."""
        for name, stop, start in self.controls:
            if name == server:
                return stop, start
        return None


def _local_controls(redis_url: str) -> tuple[tuple[str, str, str], ...]:
    """How this machine's servers stop and start (see the machine notes); overridable.

    ``TEST_STOP_<SERVER>`` and ``TEST_START_<SERVER>`` replace them
    (``POSTGRESQL``, ``REDIS``, ``RABBITMQ``). Redis keeps nothing on disk
    here, so a restart empties it, as a crash of a cache would; RabbitMQ stops
    and starts its application inside the running Erlang node.
    """
    redis = urlsplit(redis_url)
    port = redis.port or 6379
    cluster = "$(ls /etc/postgresql) main"
    defaults = {
        "postgresql": (
            f"pg_ctlcluster --skip-systemctl-redirect {cluster} stop -m fast",
            f"pg_ctlcluster --skip-systemctl-redirect {cluster} start",
        ),
        "redis": (
            f"redis-cli -h {redis.hostname} -p {port} shutdown nosave",
            f"redis-server --daemonize yes --bind 127.0.0.1 -::1 --port {port} --save '' "
            "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
        ),
        "rabbitmq": ("rabbitmqctl stop_app", "rabbitmqctl start_app"),
    }
    return tuple(
        (
            server,
            os.environ.get(f"TEST_STOP_{server.upper()}", stop),
            os.environ.get(f"TEST_START_{server.upper()}", start),
        )
        for server, (stop, start) in defaults.items()
    )


def local_servers() -> Servers:
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    return Servers(
        postgres_admin_url=os.environ.get(
            "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        redis_url=redis_url,
        rabbitmq_url=os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        source="local",
        controls=_local_controls(redis_url),
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
            # Untried where this was written (no Docker engine): should Docker
            # publish a restarted container on other host ports, the fault
            # suite fails at that restart instead of passing untested.
            controls=tuple(
                (name, f"docker stop {cid}", f"docker start {cid}")
                for name, cid in (
                    ("postgresql", pg.get_wrapped_container().id),
                    ("redis", redis.get_wrapped_container().id),
                    ("rabbitmq", rabbit.get_wrapped_container().id),
                )
            ),
        )


def use_containers() -> bool:
    """``TEST_SERVERS=containers|local`` decides; unset, containers where Docker answers."""
    choice = os.environ.get("TEST_SERVERS", "auto")
    return choice == "containers" or (choice == "auto" and docker_available())


@contextlib.contextmanager
def discover() -> Iterator[Servers]:
    if use_containers():
        log.info("test servers: testcontainers")
        with container_servers() as servers:
            yield servers
    else:
        log.info("test servers: local (TEST_* environment variables)")
        yield local_servers()
