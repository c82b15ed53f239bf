"""A :class:`~matneo.board.pack.BoardPack` as a standalone HTML page and as a PDF.

The HTML has no script and no external file (styles inline, charts as SVG from
:mod:`matneo.board.svg`), so the same bytes open anywhere, print the same and hash the same.
The PDF is printed from that HTML by headless Chromium — the Debian ``chromium`` the tests
use (``scripts/setup-browser``) — with no network: ``--print-to-pdf`` of a local file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from matneo.board.pack import VARIATION_WORDS, BoardPack
from matneo.board.svg import POINT_WORDS, spc_svg
from matneo.dates import day_text, moment_text, month_text

__all__ = ["PdfUnavailable", "chromium_path", "render_html", "render_pdf"]

_ENV = Environment(loader=PackageLoader("matneo.board", "templates"), autoescape=select_autoescape(["html"]))
#: Seconds to wait for Chromium to print one pack.
PDF_TIMEOUT = 60


class PdfUnavailable(RuntimeError):
    """No Chromium to print with, or it failed: the message says what to do."""


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}%" if unit == "%" else f"{value:.2f}"


def render_html(pack: BoardPack) -> str:
    """The pack as one accessible HTML document (NHS colours, headings, captioned tables, SVG charts)."""
    charts = {
        f.measure_id: spc_svg(
            [p.month for p in f.spc],
            [p.value for p in f.spc],
            [p.mean for p in f.spc],
            [p.lpl for p in f.spc],
            [p.upl for p in f.spc],
            [p.point_type for p in f.spc],
            title=f"{f.title}: monthly SPC chart to {pack.month_label}",
            unit=f.unit,
        )
        for f in pack.measures
        if f.spc
    }
    return _ENV.get_template("board_pack.html").render(
        pack=pack,
        charts=charts,
        generated=moment_text(pack.generated_at),
        number=_number,
        month=month_text,
        day=day_text,
        variation_words=VARIATION_WORDS,
        point_words=POINT_WORDS,
    )


def chromium_path(configured: str | None = None) -> str:
    """``configured`` (the instance's ``Settings.chromium``) if given, else the first Chromium or Chrome on ``PATH``."""
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfUnavailable(
        "No Chromium to print the PDF with: install it (scripts/setup-browser installs Debian's chromium) "
        "or set MATNEO_CHROMIUM to its path. The HTML pack does not need it."
    )


def render_pdf(html: str, chromium: str | None = None) -> bytes:
    """Print ``html`` to PDF with headless Chromium (A4, no header or footer, no network)."""
    return _chromium_file(html, "pdf", ["--no-pdf-header-footer", "--print-to-pdf={out}"], "print the pack", chromium)


def render_png(html: str, width: float, height: float, scale: float, chromium: str | None = None) -> bytes:
    """A PNG of ``html`` as headless Chromium draws it, in a window of ``width`` × ``height`` CSS
    pixels at ``scale`` device pixels each (``--screenshot``; no network)."""
    flags = [
        "--hide-scrollbars",
        f"--force-device-scale-factor={scale}",
        f"--window-size={round(width)},{round(height)}",
        "--screenshot={out}",
    ]
    return _chromium_file(html, "png", flags, "draw the image", chromium)


def _chromium_file(html: str, suffix: str, flags: list[str], doing: str, chromium: str | None) -> bytes:
    """Run headless Chromium once on ``html`` (written to a private temporary directory with its
    own profile) and return the file it writes; ``{out}`` in ``flags`` stands for that file.
    :class:`PdfUnavailable` says in words what went wrong (never Chromium's own output)."""
    browser = chromium_path(chromium)
    with tempfile.TemporaryDirectory(prefix="matneo-chromium-") as tmp:
        page, out = Path(tmp) / "page.html", Path(tmp) / f"out.{suffix}"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            *(flag.format(out=out) for flag in flags),
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=PDF_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PdfUnavailable(f"Chromium could not {doing}: {error}") from None
        if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            raise PdfUnavailable(f"Chromium could not {doing} (exit code {done.returncode}).")
        return out.read_bytes()
