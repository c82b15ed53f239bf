"""Jobs the server runs in the background while it serves.

* The harm overdue check, every hour (it is idempotent, so "daily" is met however often it
  runs; `matneo harm overdue-check` does the same from cron when no server runs), then the
  notifications by e-mail when an SMTP relay is configured (:mod:`matneo.harm.mail`).
* The signals register, refreshed after each new load (a new records-store version), so a file
  uploaded on the Data page shows up as signals without anyone running `matneo signals`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from matneo.config import MailSettings
from matneo.harm.cases import overdue_check
from matneo.harm.mail import send_notifications
from matneo.signals.register import refresh_from_store
from matneo.web.services import Services

log = logging.getLogger(__name__)
OVERDUE_EVERY = 3600.0
POLL_EVERY = 60.0


class BackgroundJobs:
    def __init__(
        self, services: Services, clock: Callable[[], float] = time.monotonic, mail: MailSettings | None = None
    ) -> None:
        self.services = services
        self.mail = mail
        self.clock = clock
        self.refreshed_version = services.results.version()
        self.last_overdue_check: float | None = None

    def run_once(self) -> list[str]:
        """Do whatever is due now; returns what was done (for the tests and the log)."""
        done = []
        now = self.clock()
        if self.last_overdue_check is None or now - self.last_overdue_check >= OVERDUE_EVERY:
            self.last_overdue_check = now
            try:
                made = overdue_check(self.services.settings.database_url)
                done.append(f"overdue check: {made} new notifications")
                if self.mail is not None:
                    sent = send_notifications(self.services.settings.database_url, self.mail)
                    done.append(f"e-mailed {sent} notifications")
            except Exception:  # pragma: no cover - logged; tried again next hour
                log.exception("the harm overdue check or its e-mail failed")
        version = self.services.results.version()
        if version is not None and version != self.refreshed_version:
            try:
                summary = refresh_from_store(self.services.settings)
                self.refreshed_version = version
                done.append(f"signals refreshed for store version {version}: {summary.raised} raised")
            except Exception:  # pragma: no cover - logged; tried again on the next poll
                log.exception("refreshing the signals register failed")
        for line in done:
            log.info(line)
        return done

    def run_forever(self) -> None:  # pragma: no cover - a loop around run_once
        while True:
            self.run_once()
            time.sleep(POLL_EVERY)
