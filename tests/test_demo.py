"""`exchange demo` plays the whole story and exits 0 only if every step happened."""

import subprocess
import sys
from pathlib import Path


def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exchange", "demo", "--keep", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified alert" in result.stdout
    assert "Every step happened" in result.stdout
    assert (tmp_path / "demo" / "demo.sqlite3").exists()
