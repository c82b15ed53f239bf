"""Deadlines as dates (§10 and each route's section, as numbered in docs/harm-routing.md), hand-calculated.

Working days skip weekends and England and Wales bank holidays; day 0 (the clock date) is not
counted. Months keep the day of the month, clamped to the month end.
"""

from __future__ import annotations

import datetime as dt

import pytest

from matneo.harm import AS_SOON_AS_POSSIBLE, HarmReportError, Period, RoutingOptions

from .reports import died_at, maternal_death, report, routed, stillborn


def deadlines(data: dict, route_id: str, **kwargs: object) -> dict[str, str]:
    (entry,) = [r for r in routed(data, **kwargs)["routes"] if r["id"] == route_id]
    return entry["deadlines"]


def test_mbrrace_perinatal_over_easter() -> None:
    """§3a: notify within 7 working days of the death (UNCONFIRMED); surveillance within 1 month.

    Stillbirth (no signs of life: the clock is the birth date) on Wed 1 Apr 2026. Good Friday is
    3 Apr, Easter Monday 6 Apr. Thu 2 (1), Tue 7 (2), Wed 8 (3), Thu 9 (4), Fri 10 (5), Mon 13 (6),
    Tue 14 (7) → 2026-04-14. One month after 1 Apr → 1 May.
    """
    data = report(stillborn(birth="2026-04-01"), weeks=30, incident_known_date="2026-04-01")
    assert deadlines(data, "MBRRACE_PERINATAL") == {"notify": "2026-04-14", "surveillance_complete": "2026-05-01"}


def test_neonatal_death_deadlines_run_from_the_death_over_christmas() -> None:
    """§3a/§4b/§8: clocks start at the death. Born Wed 16 Dec 2026, died day 7 = Wed 23 Dec 2026.

    MBRRACE 7 working days: Thu 24 (1), [Fri 25 Christmas, Sat 26, Sun 27, Mon 28 Boxing Day
    substitute], Tue 29 (2), Wed 30 (3), Thu 31 (4), [Fri 1 Jan 2027 New Year's Day], Mon 4 (5),
    Tue 5 (6), Wed 6 (7) → 2027-01-06. PMRT 2 and 6 months → 23 Feb and 23 Jun 2027. CDOP next
    calendar day (local 24 h) → Christmas Eve.
    """
    data = report(died_at(7, birth="2026-12-16"), weeks=30, incident_known_date="2026-12-23")
    assert deadlines(data, "MBRRACE_PERINATAL") == {"notify": "2027-01-06", "surveillance_complete": "2027-01-23"}
    assert deadlines(data, "PMRT") == {"review_started": "2027-02-23", "report_published": "2027-06-23"}
    assert deadlines(data, "CDOP") == {"notify": "2026-12-24"}


def test_month_deadlines_clamp_to_the_month_end() -> None:
    """§10: 31 Dec 2026 + 2 months = 28 Feb 2027 (no 31 Feb); + 1 month = 31 Jan; + 6 months = 30 Jun."""
    data = report(stillborn(birth="2026-12-31"), weeks=30, incident_known_date="2026-12-31")
    assert deadlines(data, "PMRT") == {"review_started": "2027-02-28", "report_published": "2027-06-30"}
    assert deadlines(data, "MBRRACE_PERINATAL")["surveillance_complete"] == "2027-01-31"


def test_mnsi_deadlines_around_easter_2027() -> None:
    """§1c: referral same/next working day (UNCONFIRMED default 1 working day); StEIS within 72 hours.

    Trust aware Thu 25 Mar 2027; Good Friday 26 Mar, Easter Monday 29 Mar → refer by Tue 30 Mar.
    StEIS: 72 h = 3 calendar days → Sun 28 Mar. MNSI investigation about 6 months after the
    referral deadline → 30 Sep 2027.
    """
    data = report(died_at(1, birth="2027-03-24"), incident_known_date="2027-03-25")
    assert deadlines(data, "MNSI") == {
        "refer": "2027-03-30",
        "steis": "2027-03-28",
        "investigation_expected": "2027-09-30",
    }


def test_nhsr_deadlines_count_calendar_days_from_birth_and_flag_the_conflict() -> None:
    """§2b: legal services within 14 days, NHSR within 30 days of the incident (calendar days).

    Born Mon 2 Mar 2026 → 16 Mar and 1 Apr 2026. The 30 days conflicts with "after MNSI confirms":
    shown and flagged for local confirmation.
    """
    data = report(died_at(10, therapeutic_cooling="active", mri_evidence_hypoxic_injury=True))
    (entry,) = [r for r in routed(data)["routes"] if r["id"] == "NHSR_EN"]
    assert entry["deadlines"] == {"legal_services_informed": "2026-03-16", "notify_nhsr": "2026-04-01"}
    flags = {d["name"]: d["needs_local_confirmation"] for d in entry["deadline_details"]}
    assert flags == {"legal_services_informed": False, "notify_nhsr": True}
    assert "MNSI has confirmed" in entry["deadline_details"][1]["text"]


def test_duty_of_candour_lfpse_and_psii_run_from_the_incident_known_date() -> None:
    """§7: 10 working days (SECONDARY); §5: PSII at most 6 months. §6: LFPSE has no deadline (below).

    Known Wed 23 Dec 2026: Thu 24 (1), Tue 29 (2), Wed 30 (3), Thu 31 (4), Mon 4 (5), Tue 5 (6),
    Wed 6 (7), Thu 7 (8), Fri 8 (9), Mon 11 Jan 2027 (10).
    """
    data = report(notifiable_safety_incident=True, never_event=True, incident_known_date="2026-12-23")
    assert deadlines(data, "DUTY_OF_CANDOUR") == {"notification": "2027-01-11"}
    assert deadlines(data, "LOCAL_PSII") == {"complete": "2027-06-23"}


def test_lfpse_is_as_soon_as_possible_with_no_date() -> None:
    """§6: NHS England sets no timescale for recording on LFPSE, so the route has no due date (never overdue)
    and says "as soon as possible"; a trust with its own timescale can set one."""
    data = report(incident_known_date="2026-12-23")
    (entry,) = [r for r in routed(data)["routes"] if r["id"] == "LFPSE"]
    assert entry["deadlines"] == {}
    (detail,) = entry["deadline_details"]
    assert (detail["kind"], detail["due"], detail["label"]) == ("as_soon_as_possible", None, "Record on LFPSE")
    assert detail["rule"] == "as soon as possible: no fixed deadline, so never overdue"
    assert detail["needs_local_confirmation"] is True
    local = RoutingOptions.from_dict({"deadlines": {"LFPSE.record": {"amount": 2, "unit": "working_days"}}})
    assert deadlines(data, "LFPSE", options=local) == {"record": "2026-12-29"}  # Thu 24, Tue 29 Dec 2026


def test_any_unconfirmed_deadline_can_be_made_as_soon_as_possible() -> None:
    options = RoutingOptions.from_dict({"deadlines": {"CDOP.notify": "as_soon_as_possible"}})
    assert options.deadlines == {"CDOP.notify": AS_SOON_AS_POSSIBLE}
    data = report(died_at(1))
    assert deadlines(data, "CDOP") == {"notify": "2026-03-04"}
    (entry,) = [r for r in routed(data, options=options)["routes"] if r["id"] == "CDOP"]
    assert entry["deadlines"] == {} and entry["deadline_details"][0]["kind"] == "as_soon_as_possible"
    with pytest.raises(ValueError, match="is CONFIRMED and cannot be changed"):
        RoutingOptions.from_dict({"deadlines": {"MNSI.steis": "as_soon_as_possible"}})


def test_maternal_mbrrace_has_no_date_until_a_local_period_is_set() -> None:
    """§3b: "promptly"; no timescale found (UNCONFIRMED, configurable)."""
    data = report(baby=None, mother=maternal_death(50, death="2026-04-01"))
    (entry,) = [r for r in routed(data)["routes"] if r["id"] == "MBRRACE_MATERNAL"]
    assert entry["deadlines"] == {}
    assert entry["deadline_details"][0]["due"] is None
    assert entry["deadline_details"][0]["needs_local_confirmation"] is True
    # Locally set to 5 working days: Wed 1 Apr 2026 → Thu 2 (1), [Easter], Tue 7 (2) ... Fri 10 (5).
    options = RoutingOptions(deadlines={"MBRRACE_MATERNAL.notify": Period(5, "working_days")})
    assert deadlines(data, "MBRRACE_MATERNAL", options=options) == {"notify": "2026-04-10"}


def test_a_deadline_can_be_switched_off_or_changed_locally() -> None:
    options = RoutingOptions(deadlines={"LFPSE.record": None, "MNSI.refer": Period(0, "working_days")})
    data = report(died_at(1), incident_known_date="2026-03-03")
    assert deadlines(data, "LFPSE", options=options) == {}
    assert deadlines(data, "MNSI", options=options)["refer"] == "2026-03-03"


def test_deadline_running_off_the_calendar_is_an_error() -> None:
    """A stillbirth on 30 Dec 2030: 7 working days would need 2031 bank holidays, which are not shipped."""
    data = report(stillborn(birth="2030-12-30"), weeks=30, incident_known_date="2030-12-30")
    with pytest.raises(HarmReportError, match="outside the bank-holiday calendar") as caught:
        routed(data, today=dt.date(2030, 12, 31))
    assert caught.value.field == "baby.birth_date"
