"""Renders this folder's nginx configuration where the official nginx image does not.

The image's entrypoint fills the ``${NGINX_*}`` placeholders of
``templates/**/*.template`` from the environment (envsubst) into
``/etc/nginx/conf.d/`` each time the container starts. On any other host:

    python3 deploy/nginx/render.py --env-file deploy/nginx/nginx.env /etc/nginx

writes ``/etc/nginx/nginx.conf`` and the rendered ``/etc/nginx/conf.d/``; the
environment wins over the file, so ``NGINX_SERVER_NAME=wishlist.example.org
python3 deploy/nginx/render.py ...`` changes one value. Unlike envsubst, a
placeholder with no value is an error here rather than text left for nginx to
trip over. Standard library only; the tests render with it too.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
MAIN_CONF = HERE / "nginx.conf"
ENV_FILE = HERE / "nginx.env"
SUFFIX = ".template"
PREFIX = "NGINX_"

# What envsubst replaces: $NAME and ${NAME}. Only the NGINX_ names are ours;
# lower-case $names are nginx's own variables and stay as they are.
_PLACEHOLDER = re.compile(r"\$(?:\{(?P<braced>\w+)\}|(?P<bare>[A-Za-z_]\w*))")


class MissingVariableError(KeyError):
    """A template names an NGINX_ variable that has no value."""


def placeholders(text: str) -> set[str]:
    """The NGINX_ variables ``text`` refers to."""
    names = {m.group("braced") or m.group("bare") for m in _PLACEHOLDER.finditer(text)}
    return {name for name in names if name.startswith(PREFIX)}


def render_text(text: str, variables: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        if not name.startswith(PREFIX):
            return match.group(0)
        if name not in variables:
            raise MissingVariableError(name)
        return variables[name]

    return _PLACEHOLDER.sub(substitute, text)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; blank lines and ``#`` comments are skipped."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}:{number}: not NAME=value")
        values[name.strip()] = value.strip()
    return values


def template_files(templates: Path = TEMPLATES) -> list[Path]:
    return sorted(p for p in templates.rglob(f"*{SUFFIX}") if p.is_file())


def render_templates(
    variables: Mapping[str, str], conf_d: Path, templates: Path = TEMPLATES
) -> list[Path]:
    """Renders every template into ``conf_d``, keeping sub-folders, as the image does."""
    written = []
    for template in template_files(templates):
        target = conf_d / template.relative_to(templates).as_posix().removesuffix(SUFFIX)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_text(template.read_text(), variables))
        written.append(target)
    return written


def write_config(
    target: Path,
    variables: Mapping[str, str],
    *,
    runtime_dir: Path | None = None,
    mime_types: Path | None = None,
) -> list[Path]:
    """``target/nginx.conf`` and the rendered ``target/conf.d/``; the main file comes first.

    ``runtime_dir`` takes the place of ``/tmp`` for what nginx writes as it
    runs (its pid file, request and response buffers): a private folder for
    an nginx that is not alone on the machine. ``mime_types`` is copied beside
    the main file, for a ``target`` that has none.
    """
    written = render_templates(variables, target / "conf.d")
    main_conf = MAIN_CONF.read_text()
    if runtime_dir is not None:
        main_conf = main_conf.replace(" /tmp/", f" {runtime_dir.as_posix().rstrip('/')}/")
    target.mkdir(parents=True, exist_ok=True)
    (target / "nginx.conf").write_text(main_conf)
    if mime_types is not None:
        shutil.copyfile(mime_types, target / "mime.types")
    return [target / "nginx.conf", *written]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path, help="nginx's configuration folder, /etc/nginx")
    parser.add_argument("--env-file", type=Path, help="NAME=value defaults (nginx.env)")
    parser.add_argument("--runtime-dir", type=Path, help="instead of /tmp for nginx's own files")
    parser.add_argument("--mime-types", type=Path, help="a mime.types to copy into target")
    args = parser.parse_args(argv)
    variables = read_env_file(args.env_file) if args.env_file else {}
    variables |= {k: v for k, v in os.environ.items() if k.startswith(PREFIX)}
    try:
        written = write_config(
            args.target, variables, runtime_dir=args.runtime_dir, mime_types=args.mime_types
        )
    except MissingVariableError as missing:
        print(f"render.py: no value for {missing.args[0]}", file=sys.stderr)
        return 1
    for path in written:
        print(f"render.py: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
