"""The Docker Compose files, checked without a Docker engine.

Every file validates against the Compose specification, and
docker-compose.yml keeps the shape the deployment docs promise: nginx is the
only way in, services scale (`--scale`), everything waits for what it needs,
secrets come only from uncommitted files, and development values cannot pass
for production ones.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE_FILES = ["docker-compose.yml", "deploy/compose/dev.yml", "deploy/compose/servers.yml"]

SERVERS = ("postgres", "redis", "rabbitmq")
SERVICES = {"auth": 8001, "wishlists": 8002, "notifier": 8003}
MIGRATIONS = {f"migrate-{service}": service for service in SERVICES}
ONE_OFFS = ("bootstrap", *MIGRATIONS)
# Ours, stateless: any number of replicas each.
SCALABLE = (*SERVICES, "gateway", "frontend")
LONG_RUNNING = (*SERVERS, *SCALABLE, "nginx")
SECRETS = ROOT / "deploy/compose/secrets"
DEV_SECRET_MARKER = "dev-insecure"


def load(path: str) -> dict[str, Any]:
    document = yaml.safe_load((ROOT / path).read_text())
    assert isinstance(document, dict)
    return document


def defaults(value: str) -> str:
    """A value as Compose interpolates it when no variable is set: `${NAME:-default}`."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def env_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environment is written as a mapping"
    return {key: defaults(str(value)) for key, value in environment.items()}


def env_files(service: dict[str, Any]) -> list[dict[str, Any]]:
    entries = service.get("env_file", [])
    return [entry if isinstance(entry, dict) else {"path": entry} for entry in entries]


def read_env(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load("docker-compose.yml")


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = compose["services"]
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize("path", COMPOSE_FILES)
def test_compose_file_validates_against_the_compose_spec(path: str) -> None:
    checker = BIN / "check-jsonschema"
    assert checker.exists(), "check-jsonschema is missing: `make install` installs it"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_part_of_the_platform_is_a_service(services: dict[str, Any]) -> None:
    assert set(services) == {*LONG_RUNNING, *ONE_OFFS}


def test_each_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        healthcheck = services[name].get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        assert not healthcheck.get("disable", False), f"{name} disables its healthcheck"
        assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_one_offs_run_once(services: dict[str, Any]) -> None:
    for name in ONE_OFFS:
        assert services[name].get("restart") == "no", f"{name} would be restarted"
        assert "healthcheck" not in services[name], name


def test_only_nginx_publishes_a_port(services: dict[str, Any]) -> None:
    publishing = sorted(name for name, service in services.items() if service.get("ports"))
    assert publishing == ["nginx"]
    # nginx listens on unprivileged ports in its container.
    published = {defaults(str(port)) for port in services["nginx"]["ports"]}
    assert published == {"80:8080", "443:8443"}


@pytest.mark.parametrize("path", ["docker-compose.yml", "deploy/compose/dev.yml"])
def test_scalable_services_have_no_host_port_and_no_fixed_name(path: str) -> None:
    """A fixed container name or host port would stop `--scale` at the second replica."""
    services = load(path)["services"]
    for name, service in services.items():
        assert "container_name" not in service, f"{path}: {name} sets a container_name"
        if name in SCALABLE and not (path.endswith("dev.yml") and name == "frontend"):
            assert "ports" not in service, f"{path}: {name} publishes a host port"


def test_dev_override_publishes_only_next_dev_on_loopback() -> None:
    services = load("deploy/compose/dev.yml")["services"]
    publishing = {
        name: service["ports"] for name, service in services.items() if "ports" in service
    }
    assert publishing == {"frontend": ["127.0.0.1:3000:3000"]}


def test_only_nginx_is_on_the_public_network(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    networks = compose["networks"]
    assert set(networks) == {"public", "internal"}
    assert not (networks["public"] or {}).get("internal", False)
    assert networks["internal"]["internal"] is True
    for name, service in services.items():
        attached = set(service.get("networks", []))
        expected = {"public", "internal"} if name == "nginx" else {"internal"}
        assert attached == expected, f"{name} is on {sorted(attached)}"


def test_gateway_believes_forwarded_headers_from_nginx_alone(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    subnet = ipaddress.ip_network(
        defaults(compose["networks"]["internal"]["ipam"]["config"][0]["subnet"])
    )
    nginx = ipaddress.ip_address(
        defaults(services["nginx"]["networks"]["internal"]["ipv4_address"])
    )
    assert nginx in subnet
    trusted = env_of(services["gateway"])["GATEWAY_TRUSTED_PROXIES"]
    assert ipaddress.ip_network(trusted) == ipaddress.ip_network(f"{nginx}/32")
    # Auth believes the gateway's replicas, wherever on the internal network they are.
    assert ipaddress.ip_network(env_of(services["auth"])["AUTH_TRUSTED_PROXIES"]) == subnet


def condition(service: dict[str, Any], dependency: str) -> str:
    depends_on = service.get("depends_on", {})
    assert isinstance(depends_on, dict), "depends_on is written with conditions"
    return str(depends_on[dependency]["condition"])


def test_every_dependency_waits_for_health_or_completion(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully" if dependency in ONE_OFFS else "service_healthy"
            )
            assert spec["condition"] == wanted, f"{name} on {dependency}"


def test_migrations_run_after_the_bootstrap_and_before_their_service(
    services: dict[str, Any],
) -> None:
    assert condition(services["bootstrap"], "postgres") == "service_healthy"
    for migration, service in MIGRATIONS.items():
        assert condition(services[migration], "bootstrap") == "service_completed_successfully"
        assert condition(services[service], migration) == "service_completed_successfully"
        for server in SERVERS:
            assert condition(services[service], server) == "service_healthy"


def test_gateway_and_nginx_start_once_what_they_route_to_is_healthy(
    services: dict[str, Any],
) -> None:
    for upstream in (*SERVICES, "redis"):
        assert condition(services["gateway"], upstream) == "service_healthy"
    for upstream in ("gateway", "frontend"):
        assert condition(services["nginx"], upstream) == "service_healthy"


def test_gateway_routes_to_each_service_by_its_name_and_port(services: dict[str, Any]) -> None:
    env = env_of(services["gateway"])
    for service, port in SERVICES.items():
        assert env[f"GATEWAY_{service.upper()}_URL"] == f"http://{service}:{port}"
        probe = " ".join(services[service]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/readyz" in probe


def test_one_offs_use_the_service_images(services: dict[str, Any]) -> None:
    assert services["bootstrap"]["image"] == services["auth"]["image"]
    assert services["bootstrap"]["command"] == [
        "python",
        "-m",
        "wishlist_shared.db.bootstrap",
        *SERVICES,
    ]
    for migration, service in MIGRATIONS.items():
        assert services[migration]["image"] == services[service]["image"]
        assert services[migration]["build"] == services[service]["build"]
        assert services[migration]["command"] == ["alembic", "upgrade", "head"]
        # As the service's own role: its secrets alone.
        paths = [entry["path"] for entry in env_files(services[migration])]
        assert paths == [f"deploy/compose/secrets/{service}.env"]


def test_python_images_are_built_from_the_root_dockerfile_for_their_process(
    services: dict[str, Any],
) -> None:
    ports = {**SERVICES, "gateway": 8000}
    for name, port in ports.items():
        build = services[name]["build"]
        assert build["context"] == ".", name
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", name
        # The pair the Dockerfile checks; the port is the one everything else here uses.
        assert build["args"] == {"SERVICE": name, "PORT": str(port)}, name
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/" in probe, name


def test_services_run_in_production_mode(services: dict[str, Any]) -> None:
    for name in (*SERVICES, *MIGRATIONS, "gateway"):
        prefix = MIGRATIONS.get(name, name).upper()
        assert env_of(services[name])[f"{prefix}_ENVIRONMENT"] == "production", name


def test_no_secret_is_written_in_the_compose_file(services: dict[str, Any]) -> None:
    secret = re.compile(r"PASSWORD|SECRET|_DATABASE_URL$|_RABBITMQ_URL$|ADMIN_URL$|_PASS$")
    for name, service in services.items():
        written = sorted(key for key in env_of(service) if secret.search(key))
        assert not written, f"{name} sets {written} in docker-compose.yml"
        for value in env_of(service).values():
            assert DEV_SECRET_MARKER not in value, f"{name}: {value}"


def test_secrets_come_from_optional_uncommitted_files_with_committed_examples(
    services: dict[str, Any],
) -> None:
    entries = [entry for service in services.values() for entry in env_files(service)]
    secret = [entry for entry in entries if entry["path"].startswith("deploy/compose/secrets/")]
    assert secret
    for entry in secret:
        assert entry.get("required") is False, f"{entry['path']} is required"
    # Any other env file is committed configuration, without secrets.
    for entry in entries:
        if entry not in secret:
            path = entry["path"]
            assert (ROOT / path).is_file(), f"{path} is missing"
            committed = subprocess.run(
                ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False
            )
            assert committed.returncode == 1, f"{path} is ignored by git"
    for path in sorted({entry["path"] for entry in secret}):
        assert (ROOT / f"{path}.example").is_file(), f"{path}.example is missing"
        ignored = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False
        )
        assert ignored.returncode == 0, f"{path} is not ignored by git"
        example = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", f"{path}.example"], cwd=ROOT, check=False
        )
        assert example.returncode == 1, f"{path}.example is ignored by git"


def test_secret_examples_are_refused_in_production_until_replaced() -> None:
    examples = sorted(SECRETS.glob("*.env.example"))
    assert examples
    for example in examples:
        for key, value in read_env(example).items():
            if key.endswith(("_URL", "_PASSWORD", "_PASS", "_KEY")):
                assert DEV_SECRET_MARKER in value, f"{example.name}: {key} looks real"


def test_secret_examples_agree_with_each_other() -> None:
    postgres = read_env(SECRETS / "postgres.env.example")
    rabbitmq = read_env(SECRETS / "rabbitmq.env.example")
    admin = urlsplit(postgres["DATABASE_ADMIN_URL"])
    assert (admin.hostname, admin.password) == ("postgres", postgres["POSTGRES_PASSWORD"])
    for service in SERVICES:
        env = read_env(SECRETS / f"{service}.env.example")
        database = urlsplit(env[f"{service.upper()}_DATABASE_URL"])
        assert (database.hostname, database.username) == ("postgres", f"{service}_svc")
        broker = urlsplit(env[f"{service.upper()}_RABBITMQ_URL"])
        assert broker.hostname == "rabbitmq"
        assert (broker.username, broker.password) == (
            rabbitmq["RABBITMQ_DEFAULT_USER"],
            rabbitmq["RABBITMQ_DEFAULT_PASS"],
        )


def test_our_containers_are_read_only_without_privileges(services: dict[str, Any]) -> None:
    for name in (*SCALABLE, *ONE_OFFS):
        service = services[name]
        assert service.get("read_only") is True, name
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name


def test_long_running_services_outlast_their_graceful_shutdown(services: dict[str, Any]) -> None:
    # uvicorn gives requests in flight 25 s (the images' CMD); Docker must wait longer.
    for name in (*SERVICES, "gateway"):
        grace = str(services[name]["stop_grace_period"])
        assert grace.endswith("s")
        assert int(grace[:-1]) > 25, name


def test_nginx_reads_its_configuration_from_deploy_nginx(services: dict[str, Any]) -> None:
    nginx = services["nginx"]
    assert set(nginx["volumes"]) == {
        "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro",
        "./deploy/nginx/templates:/etc/nginx/templates:ro",
        "./deploy/nginx/certs:/etc/nginx/certs:ro",
    }
    assert [entry["path"] for entry in env_files(nginx)] == ["deploy/nginx/nginx.env"]
    upstreams = read_env(ROOT / "deploy/nginx/nginx.env")
    assert upstreams["NGINX_GATEWAY_UPSTREAM"] == "gateway:8000"
    assert upstreams["NGINX_FRONTEND_UPSTREAM"] == "frontend:3000"
    # Read-only, rendering its templates into a tmpfs, with the least capabilities.
    assert nginx["read_only"] is True
    assert "/etc/nginx/conf.d" in nginx["tmpfs"]
    assert nginx["cap_drop"] == ["ALL"]
    assert set(nginx["cap_add"]) <= {"CHOWN", "SETGID", "SETUID"}


def test_dev_override_runs_mounted_sources_with_reload_in_development_mode() -> None:
    dev = load("deploy/compose/dev.yml")["services"]
    for name in (*SERVICES, "gateway"):
        service = dev[name]
        assert "--reload" in service["command"], name
        folder = "gateway" if name == "gateway" else f"services/{name}"
        assert f"./{folder}/src:/srv/{name}:ro" in service["volumes"], name
        env = env_of(service)
        assert env["PYTHONPATH"].split(":")[0] == f"/srv/{name}"
        assert env[f"{name.upper()}_ENVIRONMENT"] == "development"
    assert dev["frontend"]["command"][:3] == ["npm", "run", "dev"]
    # The dev image is tagged apart from the production one.
    base = load("docker-compose.yml")["services"]
    assert dev["frontend"]["image"] != base["frontend"]["image"]


def test_servers_file_publishes_the_servers_on_loopback_only() -> None:
    services = load("deploy/compose/servers.yml")["services"]
    assert set(services) == set(SERVERS)
    for name, service in services.items():
        for port in service["ports"]:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port}"
    assert {str(port).split(":")[1] for s in services.values() for port in s["ports"]} >= {
        "5432",
        "6379",
        "5672",
    }


def test_dev_override_secrets_are_development_values_that_agree() -> None:
    dev = load("deploy/compose/dev.yml")["services"]
    secret = re.compile(r"PASSWORD|SECRET|_DATABASE_URL$|_RABBITMQ_URL$|ADMIN_URL$|_PASS$")
    for name, service in dev.items():
        for key, value in env_of(service).items():
            if secret.search(key):
                # Production refuses these, so the override cannot leak into a deployment.
                assert DEV_SECRET_MARKER in value, f"dev.yml: {name} {key}"
    postgres = env_of(dev["postgres"])["POSTGRES_PASSWORD"]
    assert urlsplit(env_of(dev["bootstrap"])["DATABASE_ADMIN_URL"]).password == postgres
    rabbitmq = env_of(dev["rabbitmq"])
    for service in SERVICES:
        prefix = service.upper()
        url = env_of(dev[service])[f"{prefix}_DATABASE_URL"]
        # The role the bootstrap creates is the one the service and its migrations log in as.
        assert env_of(dev["bootstrap"])[f"{prefix}_DATABASE_URL"] == url
        assert env_of(dev[f"migrate-{service}"])[f"{prefix}_DATABASE_URL"] == url
        broker = urlsplit(env_of(dev[service])[f"{prefix}_RABBITMQ_URL"])
        assert (broker.username, broker.password) == (
            rabbitmq["RABBITMQ_DEFAULT_USER"],
            rabbitmq["RABBITMQ_DEFAULT_PASS"],
        )
