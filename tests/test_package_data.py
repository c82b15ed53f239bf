"""Every file the package reads at run time is shipped in its wheel.

The rule set in ``[tool.setuptools.package-data]`` once listed data folders one by one and
missed ``assurance/data`` and ``triangulation/data``: an installed (non-editable) MatNeo would
have failed on its first assurance page. This test checks that the patterns cover every
non-Python file under ``src/matneo``, so a new data folder cannot be forgotten.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "matneo"


def test_every_data_file_is_matched_by_a_package_data_pattern() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["matneo"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern) if path.is_file()}
    needed = {
        path
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    missing = sorted(str(path.relative_to(PACKAGE)) for path in needed - shipped)
    assert not missing, f"add these to [tool.setuptools.package-data]: {missing}"
