"""What the pages and the API share: settings, the hierarchy, cached results, formatting.

One :class:`Services` per app. Page builders (``matneo.web.pages``) take it and the user's
:class:`~matneo.auth.access.Access` and return a typed page context; the same context renders
as HTML and as JSON, so the numbers on a page are the numbers in the API.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matneo.config import Settings
from matneo.measures.definitions import MEASURES_BY_ID, UNIT_LABELS, Measure
from matneo.measures.results import ResultCache
from matneo.reference.organisations import OrgHierarchy, load_hierarchy


class NotFound(Exception):
    """Unknown organisation, measure or record; the message is shown (HTTP 404)."""


class BadRequest(Exception):
    """A parameter the user can fix; the message is shown (HTTP 400)."""


@dataclass
class Services:
    settings: Settings
    hierarchy: OrgHierarchy
    results: ResultCache

    @classmethod
    def create(cls, settings: Settings) -> Services:
        hierarchy = load_hierarchy()
        return cls(settings, hierarchy, ResultCache(settings, hierarchy))

    def organisation(self, code: str):  # type: ignore[no-untyped-def]
        try:
            return self.hierarchy.get(code)
        except KeyError:
            raise NotFound(f"There is no organisation with code {code!r}.") from None


def measure_or_error(measure_id: str) -> Measure:
    measure = MEASURES_BY_ID.get(measure_id)
    if measure is None:
        raise BadRequest(f"Unknown measure {measure_id!r}. Choose one of: {', '.join(MEASURES_BY_ID)}.")
    return measure


def unit_label(measure: Measure) -> str:
    return UNIT_LABELS[measure.unit]


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure as shown on pages: fixed decimals, or 'suppressed' / 'no data'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def json_float(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def figure(row: dict[str, Any] | None) -> dict[str, Any]:
    """Value, 95% interval and suppression flag of one result row (empty without a row)."""
    if row is None:
        return {"value": None, "lower95": None, "upper95": None, "suppressed": False}
    return {
        "value": json_float(row["value"]),
        "lower95": json_float(row["lower95"]),
        "upper95": json_float(row["upper95"]),
        "suppressed": bool(row["suppressed"]),
    }


def draw(builder: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any] | None:
    """A chart spec, or None when there is nothing to plot (the page then says so)."""
    from matneo.web.charts import NoDataError

    try:
        return builder(*args, **kwargs)
    except NoDataError:
        return None


@dataclass
class Chart:
    """A chart with its accessible data table and CSV download, as every page shows them."""

    id: str
    title: str
    spec: dict[str, Any] | None
    columns: list[str]
    rows: list[list[Any]]
    empty_message: str = "No data to show."
    notes: list[str] = field(default_factory=list)

    def to_csv(self) -> str:
        """The data table as CSV (what the page's "Download the data" link returns)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        writer.writerows([["" if v is None else v for v in row] for row in self.rows])
        return buffer.getvalue()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "vega_lite": self.spec,
            "notes": self.notes,
        }
