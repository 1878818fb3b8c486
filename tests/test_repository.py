"""The repository keeps its promises to a new reader: docs that match the code."""

from __future__ import annotations

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
