"""Measure results computed once per store version and kept, for pages and the API.

A page must not recompute a national table per request (issue 5, "Speed"). This cache holds,
per records-store version:

* the unsuppressed results of every measure at every level for a period type (optionally by
  ethnic group or IMD quintile), computed from the cached count cube;
* the publishable (suppressed) slice of one measure for a period type and a reader's scope,
  computed lazily the first time a user with that scope needs it.

A new load makes a new store version; the next request sees the new version and recomputes,
so figures are never stale. Old versions are dropped. Tables are read-only Polars frames;
callers filter them.

:meth:`ResultCache.view` gives one user's scope: rows of organisations in scope come
unsuppressed, the rest suppressed with the scope's own cells counted as known to the reader
(docs/adr/0005-organisation-scoped-access.md).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Any

import polars as pl

from matneo.measures.compute import BREAKDOWNS, LEVELS, PERIODS, compute, cube_for_settings
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.disclosure import DERIVED_COLUMNS, DisclosureError
from matneo.measures.inequalities import add_ratios
from matneo.measures.publish import publishable
from matneo.records.store import RecordStore
from matneo.reference.organisations import OrgHierarchy

log = logging.getLogger(__name__)
RATIO_COLUMNS = ("ratio", "ratio_lower95", "ratio_upper95")

#: Breakdowns are offered for these period types only: monthly results by group would be
#: nearly all suppressed small numbers, and large.
BREAKDOWN_PERIODS: tuple[str, ...] = ("year", "financial_year", "rolling_3y")
_MAX_PUBLISHED = 512  # suppressed slices kept per version (one measure × period × breakdown × scope each)


class ResultCache:
    """Thread-safe, per-store-version cache of measure tables for one instance."""

    def __init__(self, settings: Any, hierarchy: OrgHierarchy) -> None:
        self._settings = settings
        self._hierarchy = hierarchy
        self._store = RecordStore(settings.records_dir)
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._version: int | None = None
        self._stamp: tuple[int, int] | None = None
        self._tables: dict[tuple[Any, ...], pl.DataFrame] = {}
        self._published: OrderedDict[tuple[Any, ...], pl.DataFrame] = OrderedDict()

    def version(self) -> int | None:
        """The records-store version the cached tables belong to (None: nothing loaded).

        ``CURRENT`` is replaced atomically by each load, so its inode and modification time
        change; the file is re-read only then (one ``stat`` per call otherwise).
        """
        try:
            stat = (self._store.root / "CURRENT").stat()
            stamp: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp == self._stamp:
            return self._version
        current = self._store.current_version()
        with self._lock:
            self._stamp = stamp
            if current != self._version:
                self._version, self._tables, self._published, self._key_locks = current, {}, OrderedDict(), {}
        return current

    def _cached(
        self, store: dict[tuple[Any, ...], pl.DataFrame], key: tuple[Any, ...], build: Callable[[], pl.DataFrame]
    ):  # type: ignore[no-untyped-def]
        version = self.version()
        full_key = (version, *key)
        with self._lock:
            if full_key in store:
                return store[full_key]
            key_lock = self._key_locks.setdefault(full_key, threading.Lock())
        with key_lock:  # one thread builds, the others wait for it
            with self._lock:
                if full_key in store:
                    return store[full_key]
            table = build()
            with self._lock:
                if self._version == version:
                    store[full_key] = table
                    if isinstance(store, OrderedDict) and len(store) > _MAX_PUBLISHED:
                        store.popitem(last=False)
            return table

    def memo(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """Anything else derived from one store version (e.g. the ambition report), built once."""
        return self._cached(self._tables, ("memo", *key), build)

    def table(self, period: str, by: str | None = None) -> pl.DataFrame:
        """Every measure at every level for ``period`` (and breakdown), unsuppressed."""
        return pl.concat(list(self._by_measure(period, by).values()), how="vertical_relaxed")

    def measure_table(self, measure: str, period: str, by: str | None = None) -> pl.DataFrame:
        """One measure at every level for ``period`` (and breakdown), unsuppressed."""
        _check(period, by, measure)
        tables = self._by_measure(period, by)
        return tables.get(measure, next(iter(tables.values())).clear())

    def _by_measure(self, period: str, by: str | None) -> dict[str, pl.DataFrame]:
        """Kept split by measure: pages ask for one measure at a time, so nothing scans the rest."""
        _check(period, by)

        def build() -> dict[str, pl.DataFrame]:
            cube = cube_for_settings(self._settings)
            parts = [compute(None, level, period, by=by, cube=cube, hierarchy=self._hierarchy) for level in LEVELS]
            parts = [p for p in parts if p.height]
            if not parts:
                empty = compute(None, "england", period, by=by, cube=cube, hierarchy=self._hierarchy)
                return {"": add_ratios(empty, by) if by else empty}
            table = pl.concat(parts, how="vertical_relaxed")
            table = add_ratios(table, by) if by else table
            return {str(key[0]): part for key, part in table.partition_by("measure", as_dict=True).items()}

        return self._cached(self._tables, (period, by), build)

    def published(
        self, measure: str, period: str, by: str | None = None, known: frozenset[str] = frozenset()
    ) -> pl.DataFrame:
        """One measure's rows for ``period`` at every level, suppressed for a reader who knows ``known``.

        ``known``: organisations whose figures the reader already has (their scope). Their cells
        enter the suppression as known, not hideable, so that a trust cannot difference a
        sibling's small count out of its LMNS total using its own count (docs/adr/0005).
        Their own rows come back unsuppressed; callers show them only to that reader.
        """
        _check(period, by, measure)

        def build() -> pl.DataFrame:
            rows = self.measure_table(measure, period, by)
            if not rows.height:
                return rows
            is_known = pl.col("org_code").is_in(list(known))
            masked = rows.with_columns(
                [pl.when(is_known).then(None).otherwise(pl.col(c)).alias(c) for c in ("numerator", "denominator")]
            )
            safe = suppressed_by_period(masked, self._hierarchy).select(rows.columns)
            if not known:
                return safe
            return pl.concat([rows.filter(is_known), safe.filter(~is_known)], how="vertical_relaxed")

        return self._cached(self._published, (measure, period, by, known), build)

    def view(
        self,
        scope: Collection[str] | None,
        measure: str,
        period: str,
        by: str | None = None,
        orgs: Collection[str] | None = None,
    ) -> pl.DataFrame:
        """What a user with ``scope`` (None: everything) may see of one measure and period.

        Rows of organisations in scope are unsuppressed; the rest are suppressed with the
        scope's cells counted as known to the reader. ``orgs`` limits the rows returned (and,
        when they are all in scope, skips suppression altogether).
        """
        raw = self.measure_table(measure, period, by)
        if orgs is not None:
            wanted = list(orgs)
            raw = raw.filter(pl.col("org_code").is_in(wanted))
        if scope is None or raw.is_empty() or raw.filter(~pl.col("org_code").is_in(list(scope))).is_empty():
            return raw
        table = self.published(measure, period, by, frozenset(scope))
        return table.filter(pl.col("org_code").is_in(wanted)) if orgs is not None else table


def suppressed_by_period(table: pl.DataFrame, hierarchy: OrgHierarchy) -> pl.DataFrame:
    """:func:`publishable`, one period at a time if the whole table cannot be protected.

    Sibling sets never span periods, so per-period results are the same. A period that
    cannot be protected (a hidden cell pinned down by the reader's own known cells, e.g. a
    region whose only data that month is the reader's own LMNS) is hidden entirely.
    """
    try:
        return publishable(table, hierarchy=hierarchy)
    except DisclosureError:
        pass
    parts = []
    for part in table.partition_by("period_start", "period_end", maintain_order=True):
        try:
            parts.append(publishable(part, hierarchy=hierarchy).select(part.columns))
        except DisclosureError:
            log.warning("suppression could not protect one period; hiding it for this reader")
            hidden = [c for c in (*DERIVED_COLUMNS, "numerator", "denominator", *RATIO_COLUMNS) if c in part.columns]
            parts.append(part.with_columns(*[pl.lit(None).alias(c) for c in hidden], pl.lit(True).alias("suppressed")))
    return pl.concat(parts, how="vertical_relaxed")


def _check(period: str, by: str | None, measure: str | None = None) -> None:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}, not {by!r}")
    if by is not None and period not in BREAKDOWN_PERIODS:
        raise ValueError(f"breakdowns are available for {', '.join(BREAKDOWN_PERIODS)} periods, not {period!r}")
    if measure is not None and measure not in MEASURES_BY_ID:
        raise ValueError(f"unknown measure {measure!r}")
