"""Measure results computed once per store version and kept, for pages and the API.

A page must not recompute a national table per request (issue 5, "Speed"). This cache holds,
per records-store version:

* the unsuppressed results of every measure at every level for a period type (optionally by
  ethnic group or IMD quintile), computed from the cached count cube;
* the publishable (suppressed) slice of one measure for a period type and a reader's scope,
  computed lazily the first time a user with that scope needs it.

A new load makes a new store version; the next call sees the new version and recomputes.
Old versions are dropped. The web server instead keeps serving the previous version's warm
results until a background thread has warmed the new one
(:meth:`ResultCache.hold_previous_until_warm`), so no first view after a load waits for a
national table (issue 10); figures are then at most one warm-up behind the store. The
version is read from the store's ``CURRENT`` file (a ``stat`` per call), so a load by another
process — the CLI, or another worker of the same instance — is seen by the next request of
every process. Tables are read-only Polars frames; callers filter them.

Everything is held in one least-recently-used cache bounded by size (issue 11: a cache keyed
on anything a user can vary, such as a page's query parameters, must not grow without end).
Entries are weighed by what they hold (:func:`size_of`); when the total passes the budget the
least recently used go first.

:meth:`ResultCache.view` gives one user's scope: rows of organisations in scope come
unsuppressed, the rest suppressed with the scope's own cells counted as known to the reader
(docs/adr/0005-organisation-scoped-access.md).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import polars as pl

from matneo.measures.compute import BREAKDOWNS, LEVELS, PERIODS, Breakdown, Period, compute
from matneo.measures.counts import load_cube
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.disclosure import DERIVED_COLUMNS, DisclosureError, Relations
from matneo.measures.inequalities import add_ratios
from matneo.measures.publish import cube_relations, publishable
from matneo.records.store import RecordStore
from matneo.reference.organisations import OrgHierarchy

log = logging.getLogger(__name__)

#: A temporary column numbering rows across a split by period.
_PART_ROW = "__matneo_part_row"
RATIO_COLUMNS = ("ratio", "ratio_lower95", "ratio_upper95")

#: Breakdowns are offered for these period types only: monthly results by group would be
#: nearly all suppressed small numbers, and large.
BREAKDOWN_PERIODS: tuple[str, ...] = ("year", "financial_year", "rolling_3y")
#: Who the current request is for (a user id), set by the web layer; None for the server's own
#: work (warming, background jobs), which is never refused.
REQUESTER: contextvars.ContextVar[Any] = contextvars.ContextVar("matneo_requester", default=None)
_HOLDING: contextvars.ContextVar[bool] = contextvars.ContextVar("matneo_holding_slot", default=False)
#: Per request, the version each cache serves once looked up (see :func:`one_version`).
_PINNED: contextvars.ContextVar[dict[int, int | None] | None] = contextvars.ContextVar("matneo_pinned", default=None)
#: The store version a warm thread is building (None: the version being served).
_BUILDING: contextvars.ContextVar[int | None] = contextvars.ContextVar("matneo_building_version", default=None)
#: Expensive builds (a cache miss: a table, a reader's suppression, a page's figures) one user may
#: have running at once, and all users together. The rest of the server's threads stay free for
#: cached pages. A user over their limit gets HTTP 429, anyone when the server is full HTTP 503.
PER_USER_BUILDS = 2
TOTAL_BUILDS = 6


class Busy(Exception):
    """Too much expensive work already running: ``status`` 429 (this user's) or 503 (everyone's)."""

    def __init__(self, status: int, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class WorkLimiter:
    """Caps concurrent expensive builds per requester and in total (issue 11: one breakdown held a
    worker thread for minutes, with no limit on how many ran). Refuses at once rather than
    queueing, so a refused request costs nothing and says when to try again."""

    def __init__(self, per_user: int = PER_USER_BUILDS, total: int = TOTAL_BUILDS) -> None:
        self.per_user = per_user
        self.total = total
        self._lock = threading.Lock()
        self._running: dict[Any, int] = {}

    def running(self, requester: Any = None) -> int:
        with self._lock:
            return self._running.get(requester, 0) if requester is not None else sum(self._running.values())

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one build slot for the current requester (nested builds share their caller's)."""
        requester = REQUESTER.get()
        if requester is None or _HOLDING.get():
            yield
            return
        with self._lock:
            if self._running.get(requester, 0) >= self.per_user:
                raise Busy(429, f"You already have {self.per_user} pages being prepared. Try again in a few seconds.")
            if sum(self._running.values()) >= self.total:
                raise Busy(503, "The service is busy preparing figures for other users. Try again in a few seconds.")
            self._running[requester] = self._running.get(requester, 0) + 1
        token = _HOLDING.set(True)
        try:
            yield
        finally:
            _HOLDING.reset(token)
            with self._lock:
                self._running[requester] -= 1
                if not self._running[requester]:
                    del self._running[requester]


#: Default budget of one :class:`ResultCache`: the national period tables (the largest entries,
#: tens of megabytes each for ten years) fit several times over; pages and masks fill the rest.
DEFAULT_CACHE_BYTES = 1_200 * 2**20


@contextmanager
def one_version() -> Iterator[None]:
    """Within this block each :class:`ResultCache` serves one store version, looked up once.

    The web server wraps every request in it, so a page is built from one version even if a
    load lands half-way through, and the store's ``CURRENT`` file is looked at once per request
    rather than once per table (profiled, issue 10: the ``stat`` calls were 8% of the server's
    time on the overview page).
    """
    token = _PINNED.set({})
    try:
        yield
    finally:
        _PINNED.reset(token)


class ResultCache:
    """Thread-safe, per-store-version cache of measure tables for one instance."""

    def __init__(
        self,
        settings: Any,
        hierarchy: OrgHierarchy,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        limiter: WorkLimiter | None = None,
    ) -> None:
        """``max_bytes``: the budget of the one LRU. Call :meth:`hold_previous_until_warm` to serve a
        warmed version until its successor is warm too (the server does; commands and tests, which
        want the newest figures at once, do not)."""
        self._settings = settings
        self.limiter = limiter or WorkLimiter()
        self._hierarchy = hierarchy
        self._store = RecordStore(settings.records_dir)
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._version: int | None = None  # the version being served
        self._stamp: tuple[int, int] | None = None
        self._store_version: int | None = None  # the store's live version at the last look
        self._warmer: Callable[[], Any] | None = None
        self._warming: int | None = None  # the version a warm thread is building
        self._entries = SizedLRU(max_bytes)

    @property
    def entries(self) -> SizedLRU:
        """The bounded store behind every cached table, mask and page (for its size and count)."""
        return self._entries

    def version(self) -> int | None:
        """The records-store version whose figures are served (None: nothing loaded).

        Normally the store's live version. After :meth:`hold_previous_until_warm`, a new load
        does not change it at once: the previous version's warm results are served while a
        background thread warms the new one (tables, identities, readers' suppression), and
        the new version is served from the moment it is warm (issue 10: no cold first view right
        after a load). Inside that warming thread, the version being warmed.
        """
        building = _BUILDING.get()
        if building is not None:
            return building
        pinned = _PINNED.get()
        if pinned is None:
            return self._served_version()
        if id(self) not in pinned:
            pinned[id(self)] = self._served_version()
        return pinned[id(self)]

    def _served_version(self) -> int | None:
        current = self.store_version()
        if current == self._version:
            return current
        with self._lock:
            if current == self._version:
                return current
            if self._warmer is not None and self._version is not None and current is not None:
                if self._warming != current:
                    self._warming = current
                    threading.Thread(
                        target=self._warm_then_serve, args=(current,), daemon=True, name=f"matneo-warm-v{current}"
                    ).start()
                return self._version
            self._serve(current)
        return current

    def store_version(self) -> int | None:
        """The store's live version (which :meth:`version` may not serve yet).

        ``CURRENT`` is replaced atomically by each load, so its inode and modification time
        change; the file is re-read only then (one ``stat`` per call otherwise).
        """
        try:
            stat = (self._store.root / "CURRENT").stat()
            stamp: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp == self._stamp:
            return self._store_version
        current = self._store.current_version()
        with self._lock:
            self._stamp, self._store_version = stamp, current
        return current

    def hold_previous_until_warm(self, warmer: Callable[[], Any]) -> None:
        """From now on, serve each version until the next one has been warmed by ``warmer`` (called
        in a background thread, where this cache builds for the new version)."""
        self._warmer = warmer

    @property
    def warms_new_versions(self) -> bool:
        """Whether this cache warms each new version itself (:meth:`hold_previous_until_warm`)."""
        return self._warmer is not None

    def warm_version(self, version: int, warm: Callable[[], Any]) -> Any:
        """Run ``warm`` with this cache building for ``version`` (whatever is being served)."""
        token = _BUILDING.set(version)
        try:
            return warm()
        finally:
            _BUILDING.reset(token)

    def _warm_then_serve(self, version: int) -> None:
        started = time.perf_counter()
        log.info("job warm store version %s: started (version %s served meanwhile)", version, self._version)
        warmer = self._warmer
        try:
            if warmer is not None:
                self.warm_version(version, warmer)
        except Exception:  # serve the new version cold rather than the old one for ever
            log.exception("job warm store version %s: failed; serving it anyway", version)
        with self._lock:
            if self._warming not in (None, version):  # a newer load came meanwhile: its warm thread serves it
                return
            self._warming = None
            self._serve(version)
        log.info("job warm store version %s: finished in %.1f s; now served", version, time.perf_counter() - started)

    def _serve(self, version: int | None) -> None:
        """Serve ``version`` from now on and drop every other version's entries (under the lock)."""
        self._version = version
        self._key_locks = {k: v for k, v in self._key_locks.items() if k and self._keeps(k[0])}
        self._entries.keep_only(lambda key: self._keeps(key[0]))

    def _keeps(self, version: int | None) -> bool:
        """Whether entries of ``version`` are still wanted (served or being warmed; under the lock)."""
        return version == self._version or (version is not None and version == self._warming)

    def reader_scopes(self) -> list[frozenset[str]]:
        """The scopes of readers whose suppression is cached for the version served, most recently
        used first: whom to warm the next version for."""
        with self._lock:
            keys = [k for k in self._entries.keys_newest_first() if len(k) > 4 and k[1] == "hidden"]
        return list(dict.fromkeys(k[4] for k in keys if k[0] == self._version and k[4]))

    def served_memos(self, kind: str) -> list[tuple[Any, ...]]:
        """The keys (after ``kind``) of the :meth:`memo` entries of that kind in the version served,
        most recently used first: which pages to build again for the next version."""
        with self._lock:
            keys = [k for k in self._entries.keys_newest_first() if len(k) > 3 and k[1] == "memo" and k[2] == kind]
        return [k[3:] for k in keys if k[0] == self._version]

    def cube(self) -> pl.DataFrame:
        """The count cube of the version served (or being warmed)."""
        return load_cube(self._store, self._settings.home / "cache", version=self.version())

    def partition_files(self) -> list[Path]:
        """The records store's Parquet files of the version served (or being warmed)."""
        return self._store.partition_files(version=self.version())

    def _cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        version = self.version()
        full_key = (version, *key)
        with self._lock:
            found = self._entries.get(full_key, _MISSING)
            if found is not _MISSING:
                return found
            key_lock = self._key_locks.setdefault(full_key, threading.Lock())
        with key_lock:  # one thread builds, the others wait for it
            with self._lock:
                found = self._entries.get(full_key, _MISSING)
                if found is not _MISSING:
                    return found
            with self.limiter.slot():
                value = build()
            with self._lock:
                if self._keeps(version):
                    self._entries.put(full_key, value)
                self._key_locks.pop(full_key, None)
            return value

    def memo(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """Anything else derived from one store version (e.g. the ambition report), built once."""
        return self._cached(("memo", *key), build)

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
            cube = self.cube()
            parts = [compute(None, level, period, by=by, cube=cube, hierarchy=self._hierarchy) for level in LEVELS]
            parts = [p for p in parts if p.height]
            if not parts:
                empty = compute(None, "england", period, by=by, cube=cube, hierarchy=self._hierarchy)
                return _PeriodTable(add_ratios(empty, by) if by else empty)
            table = pl.concat(parts, how="vertical_relaxed")
            table = add_ratios(table, by) if by else table
            return _PeriodTable(table.sort("measure", maintain_order=True))

        return self._cached(("table", period, by), build)

    def relations(self, by: str | None = None) -> Relations:
        """The identities between the measures' counts in this store version (disclosure rule 4)."""
        return self.memo(("relations", by), lambda: cube_relations(self.cube(), by=by))

    def published(
        self,
        measure: str,
        period: str,
        by: str | None = None,
        known: frozenset[str] = frozenset(),
        since: dt.date | None = None,
    ) -> pl.DataFrame:
        """One measure's rows for ``period`` at every level, suppressed for a reader who knows ``known``.

        Every measure of the period is suppressed together, as one linked table, so that no
        hidden count can be worked back from another measure's numerator or denominator
        (docs/adr/0007). ``known``: organisations whose figures the reader already has (their
        scope). Their cells enter the suppression as known, not hideable, so that a trust
        cannot difference a sibling's small count out of its LMNS total using its own count
        (docs/adr/0005). Their own rows come back unsuppressed; callers show them only to that
        reader. ``since``: only periods starting on or after this date (and only those are
        suppressed, if not already cached).
        """
        _check(period, by, measure)
        rows = self._period_table(period, by).measure(measure)
        if since is not None:
            rows = rows.filter(pl.col("period_start") >= since)
        return self._protect(rows, period, by, known)

    def _protect(self, rows: pl.DataFrame, period: str, by: str | None, known: frozenset[str]) -> pl.DataFrame:
        """``rows`` (of one period table) with what suppression hides for this reader nulled.

        Sibling sets and identities never span periods, so each period is suppressed on its own
        and cached on its own: a page that shows the latest period suppresses one period, not
        ten years of them (issue 10: first views). Periods not yet cached are suppressed together
        in one call; the result is the same as suppressing the whole table at once.
        """
        if not rows.height:
            return rows
        starts = rows["period_start"].unique().sort().to_list()
        hidden = self._hidden(period, by, known, starts)
        keys = ["measure", "org_code", "period_start", *([by] if by else [])]
        joined = rows.join(hidden, on=keys, how="left", nulls_equal=True, maintain_order="left")
        hide, hide_den = pl.col("__hide").fill_null(False), pl.col("__hide_den").fill_null(False)
        nulled = [c for c in ("numerator", *DERIVED_COLUMNS, *RATIO_COLUMNS) if c in rows.columns]
        return joined.with_columns(
            *[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in nulled],
            pl.when(hide_den).then(None).otherwise(pl.col("denominator")).alias("denominator"),
            (hide | pl.col("suppressed")).alias("suppressed"),
        ).select(rows.columns)

    def _hidden(self, period: str, by: str | None, known: frozenset[str], starts: list[dt.date]) -> pl.DataFrame:
        """The cells hidden for this reader in the periods starting at ``starts`` (keys and flags only)."""
        version = self.version()
        group = (version, "hidden", period, by, known)
        found: list[pl.DataFrame] = []
        missing: list[dt.date] = []
        with self._lock:
            for start in starts:
                frame = self._entries.get((*group, start), _MISSING)
                (missing.append(start) if frame is _MISSING else found.append(frame))
            group_lock = self._key_locks.setdefault(group, threading.Lock()) if missing else None
        if group_lock is not None:
            with group_lock:  # one thread suppresses a reader's periods at a time; the others reuse them
                with self._lock:
                    still = [s for s in missing if (*group, s) not in self._entries]
                found += [self._entries_get((*group, s)) for s in missing if s not in still]
                if still:
                    # A reader starts from the public suppression of the same periods (shared by every
                    # reader, cached), re-checking only the sums their own figures take part in.
                    public = self._hidden(period, by, frozenset(), still) if known else None
                    with self.limiter.slot():
                        parts = self._suppress_periods(period, by, known, still, public)
                    with self._lock:
                        for start in still:
                            if self._keeps(version):
                                self._entries.put((*group, start), parts[start])
                    found += [parts[s] for s in still]
        return pl.concat(found, how="vertical_relaxed") if found else _hidden_schema(by)

    def _entries_get(self, key: tuple[Any, ...]) -> pl.DataFrame:
        with self._lock:
            return self._entries.get(key)

    def _suppress_periods(
        self,
        period: str,
        by: str | None,
        known: frozenset[str],
        starts: list[dt.date],
        public: pl.DataFrame | None = None,
    ) -> dict[dt.date, pl.DataFrame]:
        """Every measure of the periods at ``starts`` suppressed as one linked table for this reader;
        per period start, the hidden cells (an empty frame when nothing is hidden). ``public``: the
        hidden cells of the same periods for a reader who knows nothing (:meth:`_hidden`), to start
        from (``matneo.measures.disclosure.suppress``, ``hidden_before``) unless a period of it was
        withheld whole (never audited)."""
        whole = self._period_table(period, by).whole.filter(pl.col("period_start").is_in(starts))
        keys = ["measure", "org_code", "period_start", *([by] if by else [])]
        is_known = pl.col("org_code").is_in(sorted(derivable(self._hierarchy, known)))
        masked = whole.with_columns(
            [pl.when(is_known).then(None).otherwise(pl.col(c)).alias(c) for c in ("numerator", "denominator")]
        )
        # Breakdowns for a reader with a small scope are mostly withheld whole period by period
        # (too many linked small counts): trying the whole table first would fail too, after as
        # much work again.
        safe = suppressed_by_period(
            masked,
            self._hierarchy,
            self.relations(by),
            whole_first=by is None,
            hidden_before=_start_from(whole, public, keys) if public is not None else None,
        )
        hidden = safe.filter(pl.col("suppressed")).select(
            *keys, pl.lit(True).alias("__hide"), pl.col("denominator").is_null().alias("__hide_den")
        )
        parts = {s: hidden.clear() for s in starts}
        for (start,), part in hidden.partition_by("period_start", as_dict=True).items():
            parts[start] = part
        return parts

    def view(
        self,
        scope: Collection[str] | None,
        measure: str,
        period: str,
        by: str | None = None,
        orgs: Collection[str] | None = None,
        since: dt.date | None = None,
    ) -> pl.DataFrame:
        """What a user with ``scope`` (None: everything) may see of one measure and period.

        Rows of organisations in scope are unsuppressed; the rest are suppressed with the
        scope's cells counted as known to the reader. ``orgs`` limits the rows returned (and,
        when they are all in scope, skips suppression altogether); ``since`` limits them to
        periods starting on or after that date, and only those periods are suppressed.
        """
        raw = self.measure_table(measure, period, by)
        if since is not None:
            raw = raw.filter(pl.col("period_start") >= since)
        if orgs is not None:
            raw = raw.filter(pl.col("org_code").is_in(list(orgs)))
        if scope is None or raw.is_empty() or raw.filter(~pl.col("org_code").is_in(list(scope))).is_empty():
            return raw
        return self._protect(raw, period, by, frozenset(scope))

    def latest_start(self, measure: str, period: str, months: int | None = None) -> dt.date | None:
        """The start of the latest period of ``measure`` (with ``months`` months, if given): what a
        page showing only the latest period passes as ``since``."""
        rows = self.measure_table(measure, period)
        if months is not None:
            rows = rows.filter(pl.col("months") == months)
        return rows["period_start"].max() if rows.height else None  # type: ignore[return-value]


def _hidden_schema(by: str | None) -> pl.DataFrame:
    schema: dict[str, Any] = {"measure": pl.String, "org_code": pl.String, "period_start": pl.Date}
    if by:
        schema[by] = pl.String
    return pl.DataFrame(schema={**schema, "__hide": pl.Boolean, "__hide_den": pl.Boolean})


_MISSING = object()


def _start_from(
    whole: pl.DataFrame, public: pl.DataFrame, keys: list[str]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """``whole``'s rows' flags in the public suppression ``public``, or None if any period of it was
    withheld whole (every row with a count hidden: such a period never passed the audit, so is no
    start)."""
    counted = pl.col("numerator").is_not_null() | pl.col("denominator").is_not_null()
    flags = whole.select(*keys, counted.alias("__counted")).join(
        public, on=keys, how="left", nulls_equal=True, maintain_order="left"
    )
    hide = flags["__hide"].fill_null(False)
    withheld = (
        flags.with_columns(hide.alias("__hide"))
        .group_by("period_start")
        .agg((pl.col("__hide") | ~pl.col("__counted")).all().alias("__withheld"))
    )
    if withheld["__withheld"].any():
        return None
    return hide.to_numpy(), flags["__hide_den"].fill_null(False).to_numpy()


class SizedLRU:
    """A least-recently-used map bounded by the total size of its values (:func:`size_of`).

    Not thread-safe on its own: :class:`ResultCache` calls it under its lock. An entry larger
    than the whole budget is not kept (it is returned to its caller and rebuilt next time).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Any) -> bool:
        return key in self._items

    def get(self, key: Any, default: Any = None) -> Any:
        item = self._items.get(key)
        if item is None:
            return default
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: Any, value: Any) -> None:
        size = size_of(value)
        if key in self._items:
            self.nbytes -= self._items.pop(key)[1]
        if size > self.max_bytes:
            return
        self._items[key] = (value, size)
        self.nbytes += size
        while self.nbytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.nbytes -= dropped

    def clear(self) -> None:
        self._items.clear()
        self.nbytes = 0

    def keys_newest_first(self) -> list[Any]:
        return list(reversed(self._items))

    def keep_only(self, wanted: Callable[[Any], bool]) -> None:
        """Drop every entry whose key is not ``wanted``."""
        for key in [k for k in self._items if not wanted(k)]:
            self.nbytes -= self._items.pop(key)[1]


def size_of(value: Any, _depth: int = 0) -> int:
    """Approximate bytes held by a cached value: frames by Polars' estimate, masks by their
    arrays, text by length, containers and dataclasses by their parts (to a few levels)."""
    if isinstance(value, pl.DataFrame):
        return int(value.estimated_size())
    if isinstance(value, _PeriodTable):
        return int(value.whole.estimated_size())
    if isinstance(value, str | bytes):
        return len(value) + 64
    if _depth > 6:
        return 64
    if isinstance(value, dict):
        return 64 + sum(size_of(k, _depth + 1) + size_of(v, _depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 64 + sum(size_of(v, _depth + 1) for v in value)
    fields = getattr(value, "__dict__", None)
    if isinstance(fields, dict):
        return 64 + sum(size_of(v, _depth + 1) for v in fields.values())
    return 32


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


def derivable(hierarchy: OrgHierarchy, known: frozenset[str]) -> frozenset[str]:
    """The organisations whose figures a reader who knows ``known``'s can work out exactly: those,
    and every organisation all of whose children are among them (an LMNS of one trust is that
    trust: its figures are the sums of its children's, rule 2 of ``disclosure.py``).

    Treated as the reader's own when their view is suppressed: nothing of theirs can be hidden
    from the reader, and trying to made suppression search for minutes for a protection that
    cannot exist (an LMNS of one trust, for that trust's staff: 196 s of CPU for the first view
    of the LMNS page, then the periods were hidden whole; issue 10).
    """
    found = set(known)
    for level in LEVELS[1:]:  # bottom up (lmns, region, england): a parent's children are settled first
        for org in hierarchy.at_level(level):
            children = hierarchy.children(org.code)
            if children and all(child.code in found for child in children):
                found.add(org.code)
    return frozenset(found)


def suppressed_by_period(
    table: pl.DataFrame,
    hierarchy: OrgHierarchy,
    relations: Relations | None,
    *,
    whole_first: bool = True,
    hidden_before: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None = None,
) -> pl.DataFrame:
    """:func:`publishable`, one period at a time if the whole table cannot be protected.

    Sibling sets and identities never span periods, so per-period results are the same. A
    period that cannot be protected (a hidden cell pinned down by the reader's own known
    cells, e.g. a region whose only data that month is the reader's own LMNS) is hidden
    entirely. The linear audit that :func:`suppress` has just passed is not run twice.
    ``whole_first=False`` goes period by period at once (where most periods are expected to fail).
    ``hidden_before``: the rows' flags in a protected result to start from (``suppress``).
    """
    if whole_first and table.select("period_start", "period_end").n_unique() > 1:  # one period: the loop does it
        try:
            return publishable(
                table, hierarchy=hierarchy, relations=relations, audit=False, hidden_before=hidden_before
            )
        except DisclosureError:
            pass
    parts = []
    numbered = table.with_row_index(_PART_ROW)
    for numbered_part in numbered.partition_by("period_start", "period_end", maintain_order=True):
        part = numbered_part.drop(_PART_ROW)
        rows = numbered_part[_PART_ROW].to_numpy()
        before = (hidden_before[0][rows], hidden_before[1][rows]) if hidden_before is not None else None
        try:
            safe = publishable(part, hierarchy=hierarchy, relations=relations, audit=False, hidden_before=before)
            # the input's columns and whether each cell was suppressed, as the withheld branch gives
            parts.append(safe.select([*part.columns, *(["suppressed"] if "suppressed" not in part.columns else [])]))
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
