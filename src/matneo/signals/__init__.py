"""Early signals: case-mix adjustment, funnel positions, SPC and risk-adjusted CUSUM per trust.

``current()`` lists the register's active concerns; ``register.refresh_from_store`` updates it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matneo.config import Settings


def current(
    settings: Settings,
    org: str | None = None,
    since: dt.date | None = None,
    include_closed: bool = False,
) -> list[dict[str, Any]]:
    """Every trust with an active concern (under ``org`` if given): why, since when, evidence, and
    the data-quality caveats of the measure at the trust (:func:`matneo.quality.caveat.signal_caveats`)."""
    from matneo.quality import quality_cube
    from matneo.quality.caveat import signal_caveats
    from matneo.quality.rules import rules_from
    from matneo.reference.organisations import load_hierarchy
    from matneo.signals.detect import SignalSettings
    from matneo.signals.register import current as register_current

    trusts = [t.code for t in load_hierarchy(settings=settings).trusts_under(org)] if org else None
    entries = register_current(
        settings.database_url,
        trusts=trusts,
        since=since,
        include_closed=include_closed,
        quiet_months=SignalSettings.of(settings).quiet_months,
    )
    if entries:  # a signal resting on poor data says so (docs/data-quality.md)
        cube, rules = quality_cube(settings), rules_from(settings)
        for entry in entries:
            last = dt.date.fromisoformat(entry["last_signal"])
            entry["caveats"] = signal_caveats(cube, entry["trust_code"], entry["measure"], last, rules)
    return entries
