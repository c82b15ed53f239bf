"""The repository is self-contained: no tracked file cites a path outside it.

Design notes and research notes used while building MatNeo live outside the repository (in a
sibling ``shared/`` folder of the team's machines). A citation to them is a dead end for anyone
who clones the repository, so code, tests and docs cite the primary source instead (document,
section, year, URL). This test reads every tracked file under the cited roots with ``git ls-files``
and fails, naming file and line, on any reference to such a path.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What we check: the docs and everything that ships or tests the code.
ROOTS = ("README.md", "GLOSSARY.md", "docs", "src", "tests", "benchmarks", "scripts")

#: Paths outside the repository: the shared folder (relative or absolute), its research notes,
#: the design note, and the team machines' absolute working paths.
OUTSIDE = re.compile(
    r"\.\./shared|shared/research|shared/DESIGN|DESIGN\.md|/work/|research/[\w-]+\.md"
    # the research notes by file name, and citations of them by description
    r"|national-figures\.md|stats-methods\.md|style-and-ecosystem\.md|early-warning\.md|learning-loop\.md"
    r"|research note|design notes",
    re.IGNORECASE,
)

#: This file names the patterns it looks for.
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()


def tracked_files() -> list[str]:
    """Tracked text files under :data:`ROOTS` (binary files are skipped when read)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", *ROOTS], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    return [name for name in out.split("\0") if name and name != SELF]


def outside_citations(text: str) -> list[tuple[int, str]]:
    """(line number, line) for every line that cites a path outside the repository."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]


def test_the_pattern_catches_each_kind_of_outside_path() -> None:
    for line in (
        "see /work/shared/research/stats-methods.md §1",
        "(``shared/research/harm-routing.md``)",
        "as in shared/DESIGN.md",
        "DESIGN.md ambition table",
        "see ../shared/notes.md",
        "see research/national-figures.md",
        "(national-figures.md §3)",
        "see the stats-methods research note, section 3",
        "the design notes give 2015",
    ):
        assert outside_citations(line), line
    assert not outside_citations("Spiegelhalter, Statistics in Medicine 2005;24:1185-1202, section 3")


def test_no_tracked_file_cites_a_path_outside_the_repository() -> None:
    files = tracked_files()
    assert "README.md" in files and any(f.startswith("src/") for f in files)
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}:{n}: {line}" for n, line in outside_citations(text)]
    assert not found, "cite the primary source (document, section, year, URL) instead:\n" + "\n".join(found)
