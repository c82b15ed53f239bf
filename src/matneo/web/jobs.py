"""Jobs the server runs in the background while it serves.

* The harm overdue check, every hour (it is idempotent, so "daily" is met however often it
  runs; `matneo harm overdue-check` does the same from cron when no server runs), then the
  notifications and review notices by e-mail when an SMTP relay is configured (:mod:`matneo.harm.portal.mail`,
  :mod:`matneo.reviews.mail`).
* After each new load (a new records-store version, seen within ``POLL_EVERY`` seconds, whichever
  process loaded it): the signals register is refreshed, so a file uploaded on the Data page shows
  up as signals without anyone running `matneo signals`, while the results cache is warmed for the
  new version (period tables and the identities between measures, so the first page views after
  a load do not wait for them, issue 10). The refresh runs in a child process: detection on ten
  national years needs a gigabyte or so for a few seconds, and in the server's own process that
  memory stayed with the server after the refresh (1.3 GB to 4.9 GB, issue 10); a child gives it
  back to the system when it exits. The child starts as soon as the new version is on disk, not
  once it is served: refresh and warming run side by side, in two processes, and the signals
  are ready within seconds of the load (issue 16: ≤ 10 s; after the warming they came 60 s after
  it while clients kept the server busy). Children are forked from a fork server that has
  already imported the detection modules (:data:`PRELOAD`), so a refresh does not spend its
  first second importing them; each child is still fresh, and exits when its refresh is done.

Each job logs when it starts and when it ends, with what it changed (counts and the store version
only); under `matneo serve` the log goes to stderr.

With several server processes on one PostgreSQL app store, the jobs run in one of them only: the
process holding the ``background-jobs`` lock (:class:`~matneo.db.locks.ProcessLock`, a
session-level advisory lock). Taking a lock per run would only keep two runs apart in time: the
other process would repeat the check or the refresh a minute later. Holding it for the process's
life makes each run happen once; when that process stops, another takes over within a poll
(:data:`POLL_EVERY`), running whatever is then due. On SQLite there is one process and no lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import time
from collections.abc import Callable

from matneo.config import MailSettings, Settings
from matneo.db.locks import ProcessLock
from matneo.harm.portal import overdue_check
from matneo.harm.portal.mail import send_notifications
from matneo.reviews.mail import send_review_notices
from matneo.reviews.notices import overdue_check as review_overdue_check
from matneo.signals.register import RefreshSummary, refresh_from_store
from matneo.web.services import Services

log = logging.getLogger(__name__)
OVERDUE_EVERY = 3600.0
POLL_EVERY = 0.5  # a new store version is a stat of one file away, so looking often costs nothing
LOCK_NAME = "background-jobs"


PRELOAD = ["matneo.signals.register"]  # what every refresh child imports (polars, numpy, scipy, SQLAlchemy)
if "forkserver" in multiprocessing.get_all_start_methods():  # one single-threaded server forks fresh children
    _CHILDREN: multiprocessing.context.BaseContext = multiprocessing.get_context("forkserver")
    _CHILDREN.set_forkserver_preload(PRELOAD)
else:  # Windows: each child starts a fresh interpreter and imports for itself
    _CHILDREN = multiprocessing.get_context("spawn")


class ChildRefresh:
    """:func:`refresh_from_store` running in a fresh child process, started at once.

    The fork server imports :data:`PRELOAD` once and forks each child from that state; a child
    shares no threads, pools or connections with the server (the fork server never opens any).
    """

    def __init__(self, settings: Settings) -> None:
        self.started = time.perf_counter()
        self._pool = _CHILDREN.Pool(1)
        self._result = self._pool.apply_async(_refresh_with_peak, (settings,))

    def finish(self) -> tuple[RefreshSummary, int]:
        """Wait for the refresh; its summary and the child's peak RSS in bytes. Raises what the
        refresh raised."""
        try:
            summary, peak = self._result.get()
        finally:
            self._pool.terminate()
            self._pool.join()
        return summary, peak


def _refresh_with_peak(settings: Settings) -> tuple[RefreshSummary, int]:
    """In the child: the refresh, and the child's own peak RSS in bytes (Linux reports
    ``ru_maxrss`` in kilobytes; the child is the fork server's, not the server's, so the server's
    ``RUSAGE_CHILDREN`` never sees it)."""
    summary = refresh_from_store(settings)
    return summary, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def start_fork_server() -> None:
    """Start the refresh children's fork server now, so its imports are done before the first load."""
    if _CHILDREN.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _job(name: str, work: Callable[[], str]) -> str | None:
    """Run one job, logging its start, and its end with what it changed (counts only, never a record's
    contents); a failure is logged and the job is tried again on its next turn. Returns what changed."""
    log.info("job %s: started", name)
    return _ended(name, work, time.perf_counter())


def _ended(name: str, work: Callable[[], str], started: float) -> str | None:
    """The end of a job started at ``started`` (logged already): ``work`` waits for it and says what
    changed; the end is logged, a failure too (the job is tried again on its next turn)."""
    try:
        changed = work()
    except Exception:
        log.exception("job %s: failed after %.1f s; it is tried again later", name, time.perf_counter() - started)
        return None
    log.info("job %s: finished in %.1f s: %s", name, time.perf_counter() - started, changed)
    return changed


class BackgroundJobs:
    def __init__(
        self, services: Services, clock: Callable[[], float] = time.monotonic, mail: MailSettings | None = None
    ) -> None:
        self.services = services
        self.mail = mail
        self.clock = clock
        self.refreshed_version = services.results.store_version()
        self.last_overdue_check: float | None = None
        self.lock = ProcessLock(services.settings.database_url, LOCK_NAME)
        self.running_here: bool | None = None  # None until the first try

    def run_once(self) -> list[str]:
        """Do whatever is due now; returns what each job changed (also logged with its start and end).

        Nothing, when another process runs the jobs (it holds the lock).
        """
        here = self.lock.acquire()
        if here != self.running_here:
            self.running_here = here
            if self.lock.shared:
                log.info("jobs: %s", "run in this process" if here else "run in another process of this instance")
        if not here:
            return []
        done = []
        now = self.clock()
        url = self.services.settings.database_url
        if self.last_overdue_check is None or now - self.last_overdue_check >= OVERDUE_EVERY:
            self.last_overdue_check = now
            made = _job("harm overdue check", lambda: f"overdue check: {overdue_check(url)} new notifications")
            noticed = _job(
                "review overdue check",
                lambda: f"review overdue check: {review_overdue_check(url)} new notices",
            )
            done += [made] if made else []
            if made and self.mail is not None:
                mail = self.mail
                sent = _job(
                    "e-mail harm notifications", lambda: f"e-mailed {send_notifications(url, mail)} notifications"
                )
                done += [sent] if sent else []
            if noticed and self.mail is not None:
                review_mail = self.mail
                mailed = _job(
                    "e-mail review notices",
                    lambda: f"e-mailed {send_review_notices(url, review_mail)} review notices",
                )
                done += [mailed] if mailed else []
        # The live store version, not the one served: the server serves the previous version until
        # the new one is warm, and the refresh reads the store itself, so it need not wait for that.
        version = self.services.results.store_version()
        if version is not None and version != self.refreshed_version:
            log.info("job refresh the signals register: started (store version %s)", version)
            child = ChildRefresh(self.services.settings)
            if not self.services.results.warms_new_versions:
                warmed = _job("warm the results cache", lambda: self.services.warm())
                done += [warmed] if warmed else []
            self.services.results.version()  # a server: its cache starts warming the new version now

            def refresh() -> str:
                summary, peak = child.finish()
                self.refreshed_version = version
                return (
                    f"signals refreshed for store version {version}: {summary.raised} raised "
                    f"(in a child process, peak {peak / 2**20:.0f} MB)"
                )

            refreshed = _ended("refresh the signals register", refresh, child.started)
            done += [refreshed] if refreshed else []
        return done

    def run_forever(self) -> None:  # pragma: no cover - a loop around run_once
        while True:
            try:
                self.run_once()
            except Exception:  # the loop must outlive a database that is briefly away
                log.exception("jobs: could not run; tried again in %.0f s", POLL_EVERY)
            time.sleep(POLL_EVERY)

    def stop(self) -> None:
        """Let another process take the jobs over (at shutdown)."""
        self.lock.release()
