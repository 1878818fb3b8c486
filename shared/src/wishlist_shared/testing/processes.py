"""Service processes started by system tests on free loopback ports."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


GRACEFUL_SHUTDOWN_SECONDS = 10
"""uvicorn's ``--timeout-graceful-shutdown`` in tests: how long requests in flight may finish."""


# The gateway's sockets let go of their handshake once open, as deployed (the
# Procfile, the compose file, the k8s manifest): gateway.realtime.protocol.
GATEWAY_WS = ("--ws", "gateway.realtime.protocol:GatewaySockets")


def _gateway_ws(env: Mapping[str, str]) -> tuple[str, ...]:
    """``GATEWAY_WS``, unless the gateway to start predates its protocol.

    The bench runs an older checkout's platform with that checkout's sources
    first on PYTHONPATH; its gateway has no ``gateway.realtime.protocol`` and
    runs on uvicorn's own, as that checkout was deployed.
    """
    for entry in env.get("PYTHONPATH", "").split(os.pathsep):
        gateway = Path(entry) / "gateway"
        if entry and gateway.is_dir():
            return GATEWAY_WS if (gateway / "realtime" / "protocol.py").exists() else ()
    return GATEWAY_WS


class ServiceProcess:
    """One uvicorn process serving ``factory`` (``"auth.main:create_app"``).

    Started as a deployment starts it: with a bounded graceful shutdown, so
    SIGTERM (:meth:`stop`) lets requests in flight finish, then runs the app's
    lifespan shutdown.
    """

    def __init__(
        self,
        name: str,
        factory: str,
        env: Mapping[str, str],
        port: int | None = None,
        *,
        graceful_shutdown: int = GRACEFUL_SHUTDOWN_SECONDS,
    ):
        self.name = name
        self.graceful_shutdown = graceful_shutdown
        self.factory = factory
        self.env = dict(env)
        self.port = port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self._log.read_text(errors="replace")

    async def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, **self.env}
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; we poll below
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    self.factory,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                    # The apps decide whom to believe about the client address.
                    "--no-proxy-headers",
                    "--timeout-graceful-shutdown",
                    str(self.graceful_shutdown),
                    # As deployed (the Dockerfile, the Procfile): see the Dockerfile.
                    "--ws-per-message-deflate",
                    "false",
                    *(_gateway_ws(env) if self.factory.startswith("gateway.") else ()),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start:\n{self.logs()}")
                try:
                    if (await client.get(f"{self.url}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        await self.stop()
        raise RuntimeError(f"{self.name} did not become healthy in {timeout}s:\n{self.logs()}")

    @property
    def pid(self) -> int | None:
        """The operating system's id of the process once started (the soak reads its memory)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def terminate(self) -> None:
        """Sends SIGTERM, as a container runtime does on a rollout, and returns at once."""
        if self.running:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGTERM)

    async def stop(self, timeout: float | None = None) -> bool:
        """SIGTERM, then SIGKILL after ``timeout`` (default: the graceful shutdown and 15 s).

        True when the process exited by itself (or was not running).
        """
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return True
        proc.send_signal(signal.SIGTERM)
        return await self.wait_exit(self.graceful_shutdown + 15 if timeout is None else timeout)

    async def wait_exit(self, timeout: float) -> bool:
        """Waits for the process to end; SIGKILL after ``timeout``. True when it ended by itself."""
        proc = self._proc
        if proc is None:
            return True
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            return False
        return True

    def kill(self) -> None:
        """Ends the process at once, as a crash would: no shutdown hooks run."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
