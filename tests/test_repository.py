"""The repository keeps its promises to a new reader: docs that match the code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_reference_matches_the_settings_classes() -> None:
    result = subprocess.run(
        [sys.executable, "deploy/local/config_reference.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_no_pinned_requirement_records_a_download_address() -> None:
    for path in (ROOT / "requirements").glob("*.txt"):
        text = path.read_text()
        assert "://" not in text, f"{path.name} records an address"
        assert "--hash=sha256:" in text, f"{path.name} pins without hashes"


def test_web_app_lock_file_pins_hashes_and_no_download_address() -> None:
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())
    packages = {name: meta for name, meta in lock["packages"].items() if name}
    assert packages, "package-lock.json lists no packages"
    assert not [n for n, m in packages.items() if "resolved" in m], "addresses recorded"
    # Bundled packages come inside their parent's tarball, covered by its hash.
    unhashed = [n for n, m in packages.items() if not m.get("inBundle") and "integrity" not in m]
    assert not unhashed, f"no integrity hash for {unhashed}"
