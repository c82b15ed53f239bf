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
from typing import Any, TypeVar, cast

import numpy as np
import polars as pl

from matneo.measures.compute import BREAKDOWNS, LEVELS, PERIODS, Breakdown, Period, compute, cube_for_settings
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.disclosure import DERIVED_COLUMNS, DisclosureError, Relations
from matneo.measures.inequalities import add_ratios
from matneo.measures.publish import cube_relations, publishable
from matneo.records.store import RecordStore
from matneo.reference.organisations import OrgHierarchy

log = logging.getLogger(__name__)
RATIO_COLUMNS = ("ratio", "ratio_lower95", "ratio_upper95")

#: Breakdowns are offered for these period types only: monthly results by group would be
#: nearly all suppressed small numbers, and large.
BREAKDOWN_PERIODS: tuple[str, ...] = ("year", "financial_year", "rolling_3y")
_MAX_PUBLISHED = 512  # suppression masks kept per version (one period × breakdown × reader scope each)
_T = TypeVar("_T")


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
        self._tables: dict[tuple[Any, ...], Any] = {}
        self._published: OrderedDict[tuple[Any, ...], _Masks] = OrderedDict()

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

    def _cached(self, store: dict[tuple[Any, ...], Any], key: tuple[Any, ...], build: Callable[[], _T]) -> _T:
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
        return self._period_table(period, by).whole

    def measure_table(self, measure: str, period: str, by: str | None = None) -> pl.DataFrame:
        """One measure at every level for ``period`` (and breakdown), unsuppressed."""
        _check(period, by, measure)
        return self._period_table(period, by).measure(measure)

    def _period_table(self, period: str, by: str | None) -> _PeriodTable:
        """Kept as one frame with each measure's slice: pages ask for one measure at a time."""
        _check(period, by)
        period, by = cast(Period, period), cast(Breakdown | None, by)  # both checked just above

        def build() -> _PeriodTable:
            cube = cube_for_settings(self._settings)
            parts = [compute(None, level, period, by=by, cube=cube, hierarchy=self._hierarchy) for level in LEVELS]
            parts = [p for p in parts if p.height]
            if not parts:
                empty = compute(None, "england", period, by=by, cube=cube, hierarchy=self._hierarchy)
                return _PeriodTable(add_ratios(empty, by) if by else empty)
            table = pl.concat(parts, how="vertical_relaxed")
            table = add_ratios(table, by) if by else table
            return _PeriodTable(table.sort("measure", maintain_order=True))

        return self._cached(self._tables, (period, by), build)

    def relations(self, by: str | None = None) -> Relations:
        """The identities between the measures' counts in this store version (disclosure rule 4)."""
        return self.memo(("relations", by), lambda: cube_relations(cube_for_settings(self._settings), by=by))

    def published(
        self, measure: str, period: str, by: str | None = None, known: frozenset[str] = frozenset()
    ) -> pl.DataFrame:
        """One measure's rows for ``period`` at every level, suppressed for a reader who knows ``known``.

        Every measure of the period is suppressed together, as one linked table, so that no
        hidden count can be worked back from another measure's numerator or denominator
        (docs/adr/0007). ``known``: organisations whose figures the reader already has (their
        scope). Their cells enter the suppression as known, not hideable, so that a trust
        cannot difference a sibling's small count out of its LMNS total using its own count
        (docs/adr/0005). Their own rows come back unsuppressed; callers show them only to that
        reader.
        """
        _check(period, by, measure)
        data = self._period_table(period, by)
        rows = data.measure(measure)
        if not rows.height:
            return rows
        masks = self._cached(self._published, (period, by, known), lambda: _Masks.of(self._suppress(data, by, known)))
        return masks.apply(rows, *data.slices[measure])

    def _suppress(self, data: _PeriodTable, by: str | None, known: frozenset[str]) -> pl.DataFrame:
        """The whole period table suppressed for a reader who knows ``known``, in its row order."""
        is_known = pl.col("org_code").is_in(list(known))
        masked = data.whole.with_row_index("__position").with_columns(
            [pl.when(is_known).then(None).otherwise(pl.col(c)).alias(c) for c in ("numerator", "denominator")]
        )
        return suppressed_by_period(masked, self._hierarchy, self.relations(by)).sort("__position")

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


class _PeriodTable:
    """Every measure of one period type (and breakdown): one frame, sorted by measure, and each
    measure's (offset, length) in it, so that a measure's rows are a zero-copy slice."""

    def __init__(self, whole: pl.DataFrame) -> None:
        self.whole = whole
        counts = whole.group_by("measure", maintain_order=True).len()
        offsets = [0, *counts["len"].cum_sum().to_list()]
        self.slices = {m: (offsets[i], n) for i, (m, n) in enumerate(counts.iter_rows())}

    def measure(self, measure: str) -> pl.DataFrame:
        offset, length = self.slices.get(measure, (0, 0))
        return self.whole.slice(offset, length)


class _Masks:
    """What one reader's suppression hid, as bit masks over a :class:`_PeriodTable` (a few
    hundred kilobytes for ten years of months, where the suppressed frame would be tens of
    megabytes): the cache holds one per reader scope and period type."""

    def __init__(self, numerator: np.ndarray, denominator: np.ndarray) -> None:
        self._length = len(numerator)
        self._numerator = np.packbits(numerator)
        self._denominator = np.packbits(denominator)

    @classmethod
    def of(cls, suppressed: pl.DataFrame) -> _Masks:
        hide_num = suppressed["suppressed"].to_numpy().astype(bool)
        return cls(hide_num, hide_num & suppressed["denominator"].is_null().to_numpy())

    def apply(self, rows: pl.DataFrame, offset: int, length: int) -> pl.DataFrame:
        """``rows`` (the slice at ``offset``) with the hidden cells nulled and ``suppressed`` set."""
        bits = np.unpackbits(self._numerator, count=self._length)[offset : offset + length].astype(bool)
        den_bits = np.unpackbits(self._denominator, count=self._length)[offset : offset + length].astype(bool)
        hide, hide_den = pl.Series("__hide", bits), pl.Series("__hide_den", den_bits)
        nulled = [c for c in ("numerator", *DERIVED_COLUMNS, *RATIO_COLUMNS) if c in rows.columns]
        return (
            rows.with_columns(hide, hide_den)
            .with_columns(
                *[pl.when(pl.col("__hide")).then(None).otherwise(pl.col(c)).alias(c) for c in nulled],
                pl.when(pl.col("__hide_den")).then(None).otherwise(pl.col("denominator")).alias("denominator"),
                pl.col("__hide").alias("suppressed"),
            )
            .drop("__hide", "__hide_den")
        )


def suppressed_by_period(table: pl.DataFrame, hierarchy: OrgHierarchy, relations: Relations | None) -> pl.DataFrame:
    """:func:`publishable`, one period at a time if the whole table cannot be protected.

    Sibling sets and identities never span periods, so per-period results are the same. A
    period that cannot be protected (a hidden cell pinned down by the reader's own known
    cells, e.g. a region whose only data that month is the reader's own LMNS) is hidden
    entirely. The linear audit that :func:`suppress` has just passed is not run twice.
    """
    try:
        return publishable(table, hierarchy=hierarchy, relations=relations, audit=False)
    except DisclosureError:
        pass
    parts = []
    for part in table.partition_by("period_start", "period_end", maintain_order=True):
        try:
            parts.append(publishable(part, hierarchy=hierarchy, relations=relations, audit=False).select(part.columns))
        except DisclosureError:
            log.warning("suppression could not protect one period; hiding it for this reader")
            hidden = [c for c in (*DERIVED_COLUMNS, "numerator", "denominator", *RATIO_COLUMNS) if c in part.columns]
            # Cells given as missing are the reader's own (known to them): not withheld.
            withheld = pl.col("numerator").is_not_null() | pl.col("denominator").is_not_null()
            parts.append(
                part.with_columns(withheld.alias("suppressed")).with_columns(pl.lit(None).alias(c) for c in hidden)
            )
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
