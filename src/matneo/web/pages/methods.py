"""The methods guide as a page: ``docs/methods.md`` rendered to HTML, so that a page's "how this
is worked out" link opens something a browser can show instead of naming a repository file.

The guide is package data: ``matneo/web/docs/methods.md`` is a symbolic link to
``docs/methods.md`` in the repository (one copy to keep up to date), which a wheel or sdist build
copies in as a file, so an installed MatNeo serves the guide without a source checkout. It is read
with :mod:`importlib.resources` and rendered once per process. Markdown is rendered
with markdown-it-py (CommonMark plus tables); raw HTML in the file is not passed through.
Headings get ``id`` anchors made from their text, so pages can link to a section, e.g.
``/methods#statistical-process-control-making-data-count``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from markdown_it import MarkdownIt
from markupsafe import Markup

from matneo.web.services import NotFound

#: The guide inside the installed package (``pyproject.toml`` package-data ``web/docs/*``).
METHODS_FILE: Traversable = files("matneo.web").joinpath("docs", "methods.md")
HEADING_CLASSES = {"h1": "nhsuk-heading-xl", "h2": "nhsuk-heading-l", "h3": "nhsuk-heading-m"}


@dataclass(frozen=True)
class MethodsPage:
    title: str
    sections: list[tuple[str, str]]  # (anchor, heading) of each top-level section
    html: Markup


def slug(text: str) -> str:
    """A heading's anchor: lower case, letters and digits joined by single hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@cache
def build(path: Traversable = METHODS_FILE) -> MethodsPage:
    """The guide at ``path``, rendered; :class:`NotFound` if this installation has no copy."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound("The methods guide is not installed with this copy of MatNeo.") from None
    engine = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = engine.parse(text)
    sections: list[tuple[str, str]] = []
    title = "Statistical methods"
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open":
            continue
        anchor = slug(inline.content)
        opening.attrSet("id", anchor)
        if opening.tag == "h1":
            title = inline.content
        elif opening.tag == "h2":
            sections.append((anchor, inline.content))
        opening.attrSet("class", HEADING_CLASSES.get(opening.tag, "nhsuk-heading-s"))
    for token in tokens:
        if token.type == "table_open":
            token.attrSet("class", "nhsuk-table")
    return MethodsPage(title, sections, Markup(engine.renderer.render(tokens, engine.options, {})))
