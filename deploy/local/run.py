"""Runs the whole platform on this machine under honcho, after checking its ports.

``make run`` calls this once migrations are done. Each process's log lines are
prefixed with its name; Ctrl-C stops them all. A port that is already taken is
reported up front, by name, instead of as one process's crash among many.

The web app is served by ``next start`` from a production build. Its
rewrites to the gateway are fixed at build time, so the build is redone
whenever the sources or the gateway's address change, and reused otherwise.
``make dev`` (``WEB_MODE=dev``) serves it with ``next dev`` instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FRONTEND = ROOT / "frontend"
PORTS = {"gateway": 8000, "auth": 8001, "wishlists": 8002, "notifier": 8003, "web": 3000}
# What a production build of the web app is made from.
WEB_SOURCES = ("src", "public", "next.config.ts", "package-lock.json", "postcss.config.mjs")


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


def gateway_url() -> str:
    return os.environ.get("WEB_GATEWAY_URL") or f"http://127.0.0.1:{port_of('gateway')}"


def web_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in WEB_SOURCES:
        path = FRONTEND / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                digest.update(str(file.relative_to(FRONTEND)).encode())
                digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def build_web(env: dict[str, str]) -> None:
    """A production build of the web app for this gateway, unless the last one still fits."""
    stamp = FRONTEND / env.get("NEXT_DIST_DIR", ".next") / "wishlist-build.json"
    wanted = {"gateway_url": env["WEB_GATEWAY_URL"], "sources": web_fingerprint()}
    try:
        if json.loads(stamp.read_text()) == wanted:
            return
    except (OSError, ValueError):
        pass
    print(f"make run: building the web app for {wanted['gateway_url']}", file=sys.stderr)
    subprocess.run(["npm", "run", "build"], cwd=FRONTEND, env=env, check=True)  # noqa: S607
    stamp.write_text(json.dumps(wanted))


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
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "WEB_GATEWAY_URL": gateway_url(),
        "WEB_SCRIPT": "dev" if os.environ.get("WEB_MODE") == "dev" else "start",
        "NEXT_TELEMETRY_DISABLED": "1",
    }
    if env["WEB_SCRIPT"] == "start":
        build_web(env)
    args = [str(venv_bin / "honcho"), "--no-colour", "-f", str(HERE / "Procfile"), "-d", str(ROOT)]
    if (ROOT / ".env").exists():
        args += ["-e", str(ROOT / ".env")]
    os.execvpe(args[0], [*args, "start"], env)  # noqa: S606 - replaces this process by design


if __name__ == "__main__":
    main()
