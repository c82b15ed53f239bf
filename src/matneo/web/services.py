"""What the pages and the API share: settings, the hierarchy, cached results, formatting.

One :class:`Services` per app. Page builders (``matneo.web.pages``) take it and the user's
:class:`~matneo.auth.access.Access` and return a typed page context; the same context renders
as HTML and as JSON, so the numbers on a page are the numbers in the API.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from markupsafe import Markup
from starlette.responses import Response

from matneo.config import Settings
from matneo.csvsafe import csv_text
from matneo.measures.definitions import MEASURES_BY_ID, UNIT_LABELS, Measure
from matneo.measures.results import ResultCache
from matneo.reference.organisations import Organisation, OrgHierarchy, load_hierarchy

#: How many readers' scopes :meth:`Services.warm_readers` prepares after each load (each about half a
#: second of one core on ten national years, starting from the public suppression; readers beyond it
#: wait about as long on their first view outside their organisation).
WARM_READER_SCOPES = 40
#: How many organisation pages read in the previous store version are built again for the new one
#: before it is served (most recently read first; a fraction of a second each).
WARM_PAGES = 100
#: The measure an organisation page shows first (``matneo.web.pages.organisation.build``'s default).
DEFAULT_MEASURE = "stillbirth_rate"


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
        hierarchy = load_hierarchy(settings=settings)
        return cls(settings, hierarchy, ResultCache(settings, hierarchy))

    def warm(self) -> str:
        """Compute what the first pages of a store version need, so the first visitor does not
        wait for it: the period tables (the breakdowns too), the identities between the
        measures' counts that every reader's suppression uses, the case-mix table, the
        suppression of the periods the pages show for a reader who knows nothing (every reader's
        starts from it), and then that of the likeliest readers' scopes (:meth:`warm_readers`).
        Returns what it did."""
        import time

        started = time.perf_counter()
        version = self.results.version()
        # In the order first pages need them: summaries and funnels (rolling 12 months) and every
        # trust reader's suppression (the identities) first, then the case-mix table, breakdowns last.
        self.results.table("rolling_12m")
        self.results.relations(None)
        for period in ("year", "rolling_3y", "month"):
            self.results.table(period)
        from matneo.web.pages.funnel import adjusted_table  # pages import this module

        adjusted_table(self)  # the slowest single first view otherwise (a scan of the records)
        from matneo.quality import cached_cube

        cached_cube(self.settings, self.results)  # every summary's data-quality caveat reads it
        for by in ("ethnic_group", "imd_quintile"):
            self.results.table("rolling_3y", by)
            self.results.relations(by)
            self.results.table("year", by)
        tables = time.perf_counter() - started
        from matneo.web.pages import organisation  # pages import this module

        organisation.warm_public_suppression(self, DEFAULT_MEASURE)
        readers = self.warm_readers()
        seconds = time.perf_counter() - started
        return (
            f"store version {version}: 8 tables, 3 sets of identities, the case-mix table and the quality cube "
            f"ready in {tables:.1f} s, the public suppression of the periods pages show and suppression for "
            f"{readers} readers' scopes in {seconds - tables:.1f} s more"
        )

    def warm_readers(self, limit: int = WARM_READER_SCOPES) -> int:
        """Suppress the periods the organisation pages show for the scopes of likely readers, so
        their first view outside their own organisation does not wait for it (issue 10: a trust
        user's first LMNS page took 3.1–3.5 s, suppressing 60 months of every measure for that
        scope). Likely readers: the scopes already used in the version served before this one
        (most recent first), then those of active accounts below England level; at most
        ``limit`` scopes. Per scope, the page of the organisation above the reader's (the
        suppression is per period and scope, so it serves every other organisation's page
        too) and the yearly breakdowns. Before those, the figures of up to :data:`WARM_PAGES`
        organisation pages read in the version served before this one. Returns how many scopes
        were warmed."""
        from matneo.auth.access import Access
        from matneo.auth.signin import SignedInUser
        from matneo.auth.users import list_users
        from matneo.web.pages import organisation  # pages import this module

        codes: list[str] = []
        for scope in self.results.reader_scopes():
            tops = [c for c in scope if self.hierarchy.get(c).parent_code not in scope] if scope else []
            codes += tops[:1]
        with contextlib.suppress(Exception):  # no app database yet (a bare store): the scopes seen do
            codes += [u.org_code for u in list_users(self.settings.database_url) if u.active]
        warmed = 0
        # The organisation pages read in the version served, built again (their figures) for this one.
        england = next(o.code for o in self.hierarchy.organisations.values() if o.level == "england")
        for scope_key, code, measure_id in self.results.served_memos("organisation")[:WARM_PAGES]:
            reader = england if scope_key == "*" else scope_key
            if reader in self.hierarchy.organisations and code in self.hierarchy.organisations:
                access = Access(SignedInUser(0, "", "warm", reader, ""), self.hierarchy)
                organisation.build(self, access, code, measure_id)
        for code in dict.fromkeys(codes):
            if warmed >= limit:
                break
            org = self.hierarchy.organisations.get(code)
            parent = self.hierarchy.organisations.get(org.parent_code or "") if org is not None else None
            if org is None or org.level == "england" or parent is None:
                continue
            access = Access(SignedInUser(0, "", "warm", code, ""), self.hierarchy)
            if parent.level != "england":
                organisation.build(self, access, parent.code)
            for by in ("ethnic_group", "imd_quintile"):
                self.results.view(access.scope, DEFAULT_MEASURE, "year", by)
            warmed += 1
        return warmed

    def organisation(self, code: str) -> Organisation:
        """The organisation with this code, or :class:`NotFound` (HTTP 404) naming it."""
        try:
            return self.hierarchy.get(code)
        except KeyError:
            raise NotFound(f"There is no organisation with code {code!r}.") from None


def _encode(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in JSON")


def to_json(content: Any) -> str:
    return json.dumps(content, separators=(",", ":"), default=_encode, allow_nan=False)


def api_json(content: Any, status_code: int = 200) -> Response:
    """A JSON response encoded directly (FastAPI's generic encoder costs more than the page itself)."""
    return Response(to_json(content), status_code=status_code, media_type="application/json")


def cached_page_json(services: Services, page: Any) -> Response:
    """A page with a cached figure part as JSON: the figures are encoded once per cache key.

    ``page`` has ``cache_key``, ``figures_dict()`` and ``live_dict()`` (e.g. signals, which
    change without a new load); the response is the two objects merged.
    """
    figures = services.results.memo(("json", *page.cache_key), lambda: to_json(page.figures_dict()))
    live = to_json(page.live_dict())
    body = live[:-1] + ("," if len(live) > 2 and len(figures) > 2 else "") + figures[1:]
    return Response(body, media_type="application/json")


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


def trend_points(rows: Any) -> list[dict[str, Any]]:
    """Result rows (a Polars frame) as the points of a trend chart, one series per organisation."""
    return [
        {
            "period_start": r["period_start"],
            "period": r["period"],
            "series": r["org_name"],
            "org_code": r["org_code"],
            "period_end": r["period_end"],
            **figure(r),
        }
        for r in rows.iter_rows(named=True)
    ]


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

    @cached_property
    def spec_json(self) -> Markup:
        """The spec as JSON safe inside ``<script type="application/json">``, encoded once.

        ``<``, ``>``, ``&`` and ``'`` are escaped as JSON unicode escapes, as Jinja's ``tojson``
        does, so no value can close the script element.
        """
        text = json.dumps(self.spec, separators=(",", ":"), default=str)
        for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
            text = text.replace(char, escape)
        return Markup(text)

    def to_csv(self) -> str:
        """The data table as CSV (what the page's "Download the data" link returns), formulas neutralised."""
        return csv_text(self.columns, self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "vega_lite": self.spec,
            "notes": self.notes,
        }
