"""nginx's configuration (deploy/nginx) renders from its templates and passes ``nginx -t``.

Rendered the way the official nginx image renders it (envsubst of the
``${NGINX_*}`` placeholders), with the documented defaults of ``nginx.env``
and only what this machine needs changed: loopback ports, the development
certificate of ``dev-cert.sh``, upstream addresses that resolve here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
NGINX_DIR = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")


def load_renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nginx_render", NGINX_DIR / "render.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("nginx_render", module)
    spec.loader.exec_module(module)
    return module


render = load_renderer()


def require_nginx() -> None:
    if not Path(NGINX).exists():
        pytest.fail("no nginx: `make test` installs Debian's (apt-get install nginx)")


def dev_certificate(folder: Path) -> Path:
    result = subprocess.run(
        ["sh", str(NGINX_DIR / "dev-cert.sh"), str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return folder


def values_for(certs: Path, https: str, http: str) -> dict[str, str]:
    return {
        **render.read_env_file(render.ENV_FILE),
        "NGINX_HTTPS_LISTEN": https,
        "NGINX_HTTP_LISTEN": http,
        "NGINX_PUBLIC_ORIGIN": f"https://{https}",
        "NGINX_SSL_CERTIFICATE": str(certs / "tls.crt"),
        "NGINX_SSL_CERTIFICATE_KEY": str(certs / "tls.key"),
        # `nginx -t` resolves upstream names: compose's service names do not here.
        "NGINX_GATEWAY_UPSTREAM": "127.0.0.1:8000",
        "NGINX_FRONTEND_UPSTREAM": "127.0.0.1:3000",
    }


def nginx_test(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NGINX, "-t", "-p", str(prefix), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_rendered_configuration_passes_nginx_t(tmp_path: Path) -> None:
    require_nginx()
    certs = dev_certificate(tmp_path / "certs")
    runtime = tmp_path / "run"
    runtime.mkdir()
    values = values_for(certs, "127.0.0.1:18443", "127.0.0.1:18080")
    conf, *rendered = render.write_config(
        tmp_path / "etc", values, runtime_dir=runtime, mime_types=MIME_TYPES
    )

    result = nginx_test(conf, runtime)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    names = sorted(p.relative_to(tmp_path / "etc" / "conf.d").as_posix() for p in rendered)
    assert names == [
        "snippets/frontend-proxy.conf",
        "snippets/gateway-proxy.conf",
        "snippets/security-headers.conf",
        "wishlist.conf",
    ]
    for path in rendered:
        assert "${NGINX_" not in path.read_text(), f"{path.name} kept a placeholder"


def test_a_configuration_with_a_broken_value_fails_nginx_t(tmp_path: Path) -> None:
    """The check above can fail: nginx -t really reads what was rendered."""
    require_nginx()
    certs = dev_certificate(tmp_path / "certs")
    runtime = tmp_path / "run"
    runtime.mkdir()
    values = values_for(certs, "127.0.0.1:18443", "127.0.0.1:18080")
    values["NGINX_AUTH_RATE"] = "10/m"
    conf, *_ = render.write_config(
        tmp_path / "etc", values, runtime_dir=runtime, mime_types=MIME_TYPES
    )

    result = nginx_test(conf, runtime)

    assert result.returncode != 0
    assert "rate" in result.stderr


def test_nginx_writes_only_under_tmp_so_a_read_only_root_works() -> None:
    main_conf = (NGINX_DIR / "nginx.conf").read_text()
    site = "\n".join(p.read_text() for p in render.template_files())
    writable = re.findall(
        r"^\s*(pid|\w+_temp_path|access_log|error_log)\s+([^\s;]+)",
        main_conf + "\n" + site,
        flags=re.MULTILINE,
    )
    assert {name for name, _ in writable} >= {"pid", "proxy_temp_path", "client_body_temp_path"}
    for name, path in writable:
        assert path.startswith(("/tmp/", "/dev/stdout", "stderr", "off")), (name, path)  # noqa: S108
    # No `daemon` (the image's command sets it) and no `user` (compiled in).
    assert not re.search(r"^\s*(daemon|user)\s", main_conf, flags=re.MULTILINE)


def test_every_variable_has_a_default_and_is_documented() -> None:
    used = set().union(*(render.placeholders(p.read_text()) for p in render.template_files()))
    defaults = render.read_env_file(render.ENV_FILE)
    readme = (NGINX_DIR / "README.md").read_text()

    assert used == set(defaults), "nginx.env and the templates name different variables"
    assert all(name.startswith("NGINX_") for name in defaults)
    assert not [name for name in used if f"`{name}`" not in readme], "undocumented variables"
    # envsubst fills $NAME as well as ${NAME}; only the braced form is used.
    for path in render.template_files():
        assert not re.search(r"\$NGINX_", path.read_text()), f"bare $NGINX_ in {path.name}"


def test_a_missing_value_is_an_error_not_text_left_for_nginx() -> None:
    with pytest.raises(render.MissingVariableError):
        render.render_text("listen ${NGINX_HTTPS_LISTEN} ssl;", {})
    kept = render.render_text(
        "return 301 ${NGINX_PUBLIC_ORIGIN}$request_uri;",
        {"NGINX_PUBLIC_ORIGIN": "https://example.org"},
    )
    assert kept == "return 301 https://example.org$request_uri;"


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="no envsubst (gettext-base)")
def test_rendering_matches_the_images_envsubst() -> None:
    """What render.py writes is what the image's entrypoint writes from the same values."""
    values = render.read_env_file(render.ENV_FILE)
    # The entrypoint's envsubst is given the name of every variable defined.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **values}
    shell_format = " ".join(f"${{{name}}}" for name in environment)
    for template in render.template_files():
        text = template.read_text()
        envsubst = subprocess.run(
            ["envsubst", shell_format],
            input=text,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        assert envsubst.stdout == render.render_text(text, values), template.name


def test_the_dev_certificate_is_valid_for_loopback_and_signed_by_its_ca(tmp_path: Path) -> None:
    certs = dev_certificate(tmp_path / "certs")
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(certs / "ca.crt"), str(certs / "tls.crt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    text = subprocess.run(
        ["openssl", "x509", "-in", str(certs / "tls.crt"), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:localhost" in text
    assert "IP Address:127.0.0.1" in text
    # A second run keeps the CA a browser may already trust.
    ca = (certs / "ca.crt").read_bytes()
    dev_certificate(certs)
    assert (certs / "ca.crt").read_bytes() == ca


def test_keys_never_enter_the_repository() -> None:
    ignored = (NGINX_DIR / ".gitignore").read_text().splitlines()
    assert "/certs/" in ignored, "dev-cert.sh's folder must be ignored by git"
    stray = [p for p in NGINX_DIR.rglob("*.key") if p.relative_to(NGINX_DIR).parts[0] != "certs"]
    assert not stray, f"keys outside the ignored folder: {stray}"
