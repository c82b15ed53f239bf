"""Harm routing: which bodies a maternity or neonatal harm report goes to, by when, and what is unknown.

Pure functions over a report dict (no database, no web). The clinical rules, their sources and
confidence are data in :mod:`matneo.harm.rules`, each citing the national document it restates; the
rendered reference, with the list of sources, is ``docs/harm-routing.md``. The portal built on
this engine (cases in the database, the web pages' actions) is :mod:`matneo.harm.portal`, kept
apart so the engine imports nothing stateful (``docs/adr/0009-harm-split.md``).

>>> from matneo.harm import route
>>> result = route(report_dict)  # doctest: +SKIP
>>> [r["id"] for r in result["routes"]]  # doctest: +SKIP
['MNSI', 'MBRRACE_PERINATAL', 'PMRT', 'CDOP', 'DUTY_OF_CANDOUR', 'LFPSE']
"""

from matneo.harm.calendar import CalendarRangeError, add_working_days, bank_holidays, is_working_day
from matneo.harm.report import FieldError, HarmReport, HarmReportError, parse_report
from matneo.harm.routing import route, route_report
from matneo.harm.rules import (
    AS_SOON_AS_POSSIBLE,
    BRAIN_INJURY_CRITERIA,
    DEADLINES,
    EXCLUSIONS,
    ROUTE_IDS,
    RULES,
    RULESET_VERSION,
    Confidence,
    Period,
    RoutingOptions,
)

__all__ = [
    "AS_SOON_AS_POSSIBLE",
    "BRAIN_INJURY_CRITERIA",
    "DEADLINES",
    "EXCLUSIONS",
    "ROUTE_IDS",
    "RULES",
    "RULESET_VERSION",
    "CalendarRangeError",
    "Confidence",
    "FieldError",
    "HarmReport",
    "HarmReportError",
    "Period",
    "RoutingOptions",
    "add_working_days",
    "bank_holidays",
    "is_working_day",
    "parse_report",
    "route",
    "route_report",
]
