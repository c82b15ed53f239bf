"""Assurance frameworks as data: CNST MIS, Saving Babies' Lives, Ockenden, the delivery plan.

Why data, not code: each framework changes every year (MIS has a new year of safety actions
annually) and every item must cite its document and section; a new version is a new entry in
``data/frameworks.json`` whose items name the item of the previous version they follow
(``previous``, e.g. MIS year 6 safety action 1 follows year 5's), and ``maps_to`` links say
which items of other frameworks the same evidence supports, so evidence attached once serves
every requirement it maps to. Items whose wording could not be confirmed from a primary source carry
``needs_local_confirmation`` and say so wherever they are shown.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

__all__ = ["LOCAL", "Framework", "Item", "frameworks", "item"]

#: The framework id of requirements a trust or LMNS adds: their keys are ``local:<id>``.
LOCAL = "local"


@dataclass(frozen=True)
class Item:
    framework: str
    id: str
    title: str
    section: str
    measure: str | None = None  # a MatNeo measure that is this item's live evidence
    figure: str | None = None  # another live figure (e.g. "early_notification")
    maps_to: tuple[str, ...] = ()  # "framework:item" keys the same evidence supports
    previous: str | None = None  # the item of the framework's previous version this one follows
    needs_local_confirmation: bool = False
    # a requirement a trust or LMNS added (framework "local", :mod:`matneo.assurance.catalogue`)
    description: str | None = None
    source: str | None = None  # where a local requirement comes from and why
    owner: str | None = None  # the trust or LMNS that added it
    due: dt.date | None = None  # its due date unless a trust records its own
    under: str | None = None  # the packaged framework it is listed under, if any
    retired: bool = False

    @property
    def local(self) -> bool:
        return self.framework == LOCAL

    @property
    def key(self) -> str:
        """``framework:item``, e.g. ``cnst_mis_y2:SA10``: how statuses and mappings name an item."""
        return f"{self.framework}:{self.id}"


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    short: str
    publisher: str
    published: str
    url: str
    note: str
    items: tuple[Item, ...] = field(default_factory=tuple)

    @property
    def published_words(self) -> str:
        """``published`` as people read it: "12 Dec 2018", or "Jul 2023" when only the month is known."""
        parts = self.published.split("-")
        if len(parts) == 3:
            return dt.date.fromisoformat(self.published).strftime("%-d %b %Y")
        if len(parts) == 2:
            return dt.date(int(parts[0]), int(parts[1]), 1).strftime("%b %Y")
        return self.published


@cache
def frameworks() -> tuple[Framework, ...]:
    """Every framework in ``data/frameworks.json``, checked: unique keys, mappings and measures that exist."""
    from matneo.measures.definitions import MEASURES_BY_ID

    raw = json.loads(resources.files("matneo.assurance").joinpath("data/frameworks.json").read_text("utf-8"))
    result = []
    for f in raw["frameworks"]:
        items = tuple(
            Item(
                framework=f["id"],
                id=i["id"],
                title=i["title"],
                section=i["section"],
                measure=i.get("measure"),
                figure=i.get("figure"),
                maps_to=tuple(i.get("maps_to", ())),
                previous=i.get("previous"),
                needs_local_confirmation=bool(i.get("needs_local_confirmation", False)),
            )
            for i in f["items"]
        )
        result.append(
            Framework(f["id"], f["title"], f["short"], f["publisher"], f["published"], f["url"], f["note"], items)
        )
    keys = [i.key for fw in result for i in fw.items]
    if len(keys) != len(set(keys)):
        raise ValueError("frameworks.json: an item id is repeated within a framework")
    for fw in result:
        for i in fw.items:
            missing = [k for k in i.maps_to if k not in keys]
            if missing:
                raise ValueError(f"frameworks.json: {i.key} maps to unknown items {missing}")
            if i.previous is not None and (i.previous not in keys or i.previous.split(":")[0] == fw.id):
                raise ValueError(f"frameworks.json: {i.key} follows {i.previous!r}, not an item of another framework")
            if i.measure is not None and i.measure not in MEASURES_BY_ID:
                raise ValueError(f"frameworks.json: {i.key} names unknown measure {i.measure!r}")
    return tuple(result)


def item(key: str) -> Item:
    """The packaged item with key ``framework:item``; KeyError naming it if there is none.

    Only the packaged frameworks: a page or write that may meet a trust's or LMNS's own
    requirements (``local:<id>``) looks keys up in :func:`matneo.assurance.catalogue.catalogue`."""
    for fw in frameworks():
        for i in fw.items:
            if i.key == key:
                return i
    raise KeyError(f"no assurance requirement {key!r}")
