"""Every file the package reads at run time is shipped in its wheel.

The rule set in ``[tool.setuptools.package-data]`` once listed data folders one by one and
missed ``assurance/data`` and ``triangulation/data``: an installed (non-editable) MatNeo would
have failed on its first assurance page. This test checks that the patterns cover every
non-Python file under ``src/matneo``, so a new data folder cannot be forgotten.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

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


def test_the_methods_guide_ships_as_package_data_and_is_read_from_the_package() -> None:
    """The /methods page reads ``matneo/web/docs/methods.md`` through importlib.resources, which is
    ``docs/methods.md`` (a link in the checkout), so there is one text and no read from ``docs/``."""
    from matneo.web.pages import methods

    linked = PACKAGE / "web" / "docs" / "methods.md"
    assert linked.read_text(encoding="utf-8") == (ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    assert Path(str(methods.METHODS_FILE)) == linked
    assert methods.build().title == "Statistical methods"


@pytest.mark.slow
def test_an_installed_wheel_serves_the_methods_guide(tmp_path: Path) -> None:
    """Build a wheel from a copy of the checkout, install it into a bare folder, and render the guide
    from there: no source tree is on the path, so it can come only from the wheel."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    (source / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "methods.md", source / "docs" / "methods.md")
    shutil.copytree(PACKAGE, source / "src" / "matneo", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)], check=True)
    (wheel,) = tmp_path.glob("matneo-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("matneo/web/docs/methods.md").decode("utf-8")
    assert shipped == (ROOT / "docs" / "methods.md").read_text(encoding="utf-8"), "the file, not the link"
    target = tmp_path / "installed"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    probe = (
        "import matneo.web.pages.methods as m; page = m.build(); "
        "print(m.__file__); print(page.title); print(len(page.sections))"
    )
    shutil.rmtree(source)  # nothing left to read but the installed copy
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert out[0].startswith(str(target)), out
    assert out[1] == "Statistical methods" and int(out[2]) > 3, out
