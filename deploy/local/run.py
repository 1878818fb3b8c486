"""Runs the whole platform on this machine under honcho, after checking its ports.

``make run`` calls this once migrations are done. Each process's log lines are
prefixed with its name; Ctrl-C stops them all. A port that is already taken is
reported up front, by name, instead of as one process's crash among many.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PORTS = {"gateway": 8000, "auth": 8001, "wishlists": 8002, "notifier": 8003}


def port_of(name: str) -> int:
    return int(os.environ.get(f"{name.upper()}_PORT", PORTS[name]))


def taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def main() -> None:
    busy = [(name, port_of(name)) for name in PORTS if taken(port_of(name))]
    for name, port in busy:
        print(
            f"make run: port {port} for {name} is already in use "
            f"(another `make run`?). Stop that process or set {name.upper()}_PORT.",
            file=sys.stderr,
        )
    if busy:
        sys.exit(1)
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    args = [str(venv_bin / "honcho"), "--no-colour", "-f", str(HERE / "Procfile"), "-d", str(ROOT)]
    if (ROOT / ".env").exists():
        args += ["-e", str(ROOT / ".env")]
    os.execvpe(args[0], [*args, "start"], env)  # noqa: S606 - replaces this process by design


if __name__ == "__main__":
    main()
