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


@pytest.mark.parametrize(
    "name", ["methods", "measures", "data-quality", "birth-record", "msds", "fhir", "harm-routing"]
)
def test_each_guide_ships_as_package_data_and_is_read_from_the_package(name: str) -> None:
    """The guide pages read ``matneo/web/docs/NAME.md`` through importlib.resources, which is
    ``docs/NAME.md`` (a link in the checkout), so there is one text and no read from ``docs/``."""
    from matneo.web.pages import guides

    linked = PACKAGE / "web" / "docs" / f"{name}.md"
    assert linked.is_symlink(), "a link to docs/, so there is one copy to keep up to date"
    assert linked.read_text(encoding="utf-8") == (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")
    assert Path(str(guides.GUIDES[name].file)) == linked
    assert guides.build(name).title.startswith(HEADINGS[name])


def test_every_guide_is_listed() -> None:
    from matneo.web.pages import guides

    shipped = {path.stem for path in (PACKAGE / "web" / "docs").glob("*.md")}
    assert shipped == set(guides.GUIDES) == set(HEADINGS)


#: Each guide's first heading (its page title).
HEADINGS = {
    "methods": "Statistical methods",
    "measures": "Measures",
    "data-quality": "Data quality",
    "birth-record": "The birth record",
    "msds": "MSDS v2.0 input",
    "fhir": "FHIR in and out",
    "harm-routing": "Harm routing",
}


@pytest.mark.slow
def test_an_installed_wheel_serves_the_guides(tmp_path: Path) -> None:
    """Build a wheel from a copy of the checkout, install it into a bare folder, and render the guides
    from there: no source tree is on the path, so they can come only from the wheel."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    (source / "docs").mkdir()
    for name in HEADINGS:
        shutil.copy(ROOT / "docs" / f"{name}.md", source / "docs" / f"{name}.md")
    shutil.copytree(PACKAGE, source / "src" / "matneo", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)], check=True)
    (wheel,) = tmp_path.glob("matneo-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in HEADINGS:
            shipped = archive.read(f"matneo/web/docs/{name}.md").decode("utf-8")
            assert shipped == (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8"), "the file, not the link"
    target = tmp_path / "installed"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    probe = (
        "import matneo.web.pages.guides as g; print(g.__file__); "
        "[print(name, g.build(name).title, len(g.build(name).sections), sep='|') for name in g.GUIDES]"
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
    rendered = {name: (title, int(sections)) for name, title, sections in (line.split("|") for line in out[1:])}
    assert set(rendered) == set(HEADINGS), out
    for name, (title, sections) in rendered.items():
        assert title.startswith(HEADINGS[name]) and sections >= 2, (name, title, sections)
