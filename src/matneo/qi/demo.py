"""A demonstration collaborative for `matneo demo`: several projects across trusts.

Seeded once (a collaborative with :data:`DEMO_NAME` already present means nothing is done), and
only into a demonstration instance. Every write goes through :mod:`matneo.qi.actions` as the
actor "matneo demo", so the demo's own audit trail is real. One project is motivated by the
trust whose deterioration the synthetic data plant (``DEMO_STRUGGLING`` in the CLI), so the
MatNeo stillbirth measure on its chart shows the change the signals register found. Custom
measures' values are made up for the demonstration and say so in their titles.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import select

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.dates import add_months
from matneo.db.models import QiCollaborative, QiMeasureValue, Signal
from matneo.db.session import transaction
from matneo.qi import actions
from matneo.qi.models import QiProgressChange
from matneo.reference.organisations import OrgHierarchy

DEMO_NAME = "Maternal and neonatal safety improvement (demonstration)"
ACTOR = "matneo demo"


def _as(hierarchy: OrgHierarchy, role: str, org: str) -> Access:
    return Access(SignedInUser(0, ACTOR, role, org, ""), hierarchy)


def _monthly(url: str, measure_id: int, today: dt.date, values: list[tuple[float, float]]) -> None:
    """Made-up monthly values ending last month (written directly: the demo fills history at once)."""
    first = add_months(today.replace(day=1), -len(values))
    with transaction(url) as session:
        for i, (num, den) in enumerate(values):
            session.add(
                QiMeasureValue(
                    measure_id=measure_id,
                    period_start=add_months(first, i),
                    numerator=num,
                    denominator=den,
                    entered_by=ACTOR,
                )
            )


def _score_history(url: str, project_id: int, today: dt.date, steps: list[tuple[int, float]]) -> None:
    """Made-up earlier progress scores (``months ago``, score), so the stage-per-quarter grid has a
    history on first run (written directly, like the values: the demo fills history at once; the
    current score is then set through :func:`matneo.qi.actions.set_progress`, audited)."""
    with transaction(url) as session:
        for months_ago, score in steps:
            moment = dt.datetime.combine(add_months(today.replace(day=15), -months_ago), dt.time(12))
            session.add(QiProgressChange(project_id=project_id, score=score, set_by=ACTOR, set_at=moment))


def _series(before: float, after: float, months: int, change_at: int, den: int) -> list[tuple[float, float]]:
    """A gentle wobble around ``before`` that moves to ``after`` at ``change_at`` (deterministic)."""
    out: list[tuple[float, float]] = []
    for i in range(months):
        level = before if i < change_at else after
        wobble = 0.04 * math.sin(i * 1.7) + 0.02 * math.cos(i * 0.9)
        share = min(max(level + wobble, 0.0), 1.0)
        out.append((float(round(share * den)), float(den)))
    return out


def ensure_demo_collaborative(
    url: str, hierarchy: OrgHierarchy, planted_trust: str, today: dt.date | None = None
) -> int | None:
    """Create the demonstration collaborative and its projects; return its id (None if it existed)."""
    today = today or dt.date.today()
    with transaction(url) as session:
        if session.scalar(select(QiCollaborative.id).where(QiCollaborative.name == DEMO_NAME)) is not None:
            return None
    national = _as(hierarchy, "national_analyst", "ENG")
    lmns_code = hierarchy.ancestor_at(planted_trust, "lmns").code
    neighbours = [t.code for t in hierarchy.trusts_under(lmns_code) if t.code != planted_trust][:2]
    elsewhere = [t.code for t in hierarchy.trusts() if t.code not in {planted_trust, *neighbours}][:2]
    trusts = [planted_trust, *neighbours, *elsewhere]
    cid = actions.create_collaborative(
        url,
        national,
        {
            "name": DEMO_NAME,
            "kind": "national",
            "org_code": "ENG",
            "description": (
                "Trusts improving the MatNeoSIP priorities together. Demonstration data: every figure is made up."
            ),
        },
    )
    wave = actions.add_wave(url, national, cid, {"name": "Wave 1", "starts_on": add_months(today, -18).isoformat()})
    for code in trusts:
        actions.add_member(url, national, cid, code, wave)
    library = {
        title: actions.add_change_idea(url, national, {"title": title, "description": text}, collaborative_id=cid)
        for title, text in (
            (
                "Reduced fetal movements leaflet at booking",
                "Every woman gets the leaflet and the unit's number at booking.",
            ),
            ("Same-day review for reduced fetal movements", "A triage slot so women are seen within two hours."),
            ("Magnesium sulphate grab box", "A ready box on delivery suite with the drug and the protocol."),
            ("Preterm birth proforma", "One proforma that prompts steroids, magnesium and place of birth."),
            ("Thermal mattress at every preterm birth", "Kept charged on the resuscitaire."),
            (
                "Opt-out carbon monoxide testing",
                "CO testing at every antenatal contact with referral to stop-smoking support.",
            ),
        )
    }

    def project(trust: str, fields: dict[str, Any]) -> tuple[Access, int]:
        team = _as(hierarchy, "trust_staff", trust)
        return team, actions.create_project(url, team, {"trust_code": trust, **fields}, [cid])

    # 1. The planted trust: its stillbirth rate rose, which the signals register found.
    with transaction(url) as session:
        signal_id = session.scalar(
            select(Signal.id)
            .where(Signal.trust_code == planted_trust, Signal.status != "closed")
            .order_by((Signal.measure == "stillbirth_rate").desc(), Signal.first_signal_date)
            .limit(1)
        )
    team, pid = project(
        planted_trust,
        {
            "title": "Reducing stillbirths after reduced fetal movements",
            "team": "Maternity safety team",
            "problem": (
                "Stillbirths rose from early 2023; reviews found delays in seeing women with reduced fetal movements."
            ),
            "aim_what": "Reduce the stillbirth rate",
            "aim_how_much": "back to 3.5 per 1,000 births or fewer",
            "aim_by_when": add_months(today, 12).isoformat(),
            "status": "testing",
            "starts_on": add_months(today, -12).isoformat(),
            "motivation": "MatNeo's signals register raised a stillbirth signal for this trust (demonstration data).",
            "signal_id": str(signal_id) if signal_id else "",
        },
    )
    for name, role in (
        ("Midwife consultant", "Project lead"),
        ("Head of midwifery", "Sponsor"),
        ("Obstetrician", "Clinical lead"),
    ):
        actions.add_team_member(url, team, pid, {"name": name, "role": role})
    primary = actions.add_driver(url, team, pid, {"text": "Women know to report reduced movements"})
    secondary = actions.add_driver(
        url, team, pid, {"text": "Information at booking and 28 weeks", "parent_id": str(primary)}
    )
    actions.link_idea(url, team, pid, secondary, library["Reduced fetal movements leaflet at booking"])
    primary2 = actions.add_driver(url, team, pid, {"text": "Prompt assessment when they do"})
    secondary2 = actions.add_driver(url, team, pid, {"text": "Triage capacity", "parent_id": str(primary2)})
    actions.link_idea(url, team, pid, secondary2, library["Same-day review for reduced fetal movements"])
    actions.add_measure(
        url, team, pid, {"kind": "outcome", "source": "matneo", "matneo_measure": "stillbirth_rate", "is_key": "1"}
    )
    seen = actions.add_measure(
        url,
        team,
        pid,
        {
            "kind": "process",
            "source": "custom",
            "title": "Reduced movements: seen within 2 hours (demo values)",
            "unit": "percent",
            "direction": "increase",
        },
    )
    _monthly(url, seen, today, _series(0.55, 0.8, 18, 9, 40))
    actions.update_measure(
        url, team, seen, {"rule_set": "anhoej", "baseline_points": "9", "baseline_reason": "Before the triage slot"}
    )
    actions.save_pdsa(
        url,
        team,
        pid,
        {
            "title": "Triage slot on weekdays",
            "question": "Will a protected slot get women seen within two hours?",
            "prediction": "Eight in ten women seen within two hours",
            "plan": "Triage midwife, weekdays 08:00-20:00, four weeks",
            "data_to_collect": "Time from call to review for every woman",
            "do_notes": "Slot used 46 times; two weekends uncovered",
            "study_notes": "78% seen within two hours, close to the prediction",
            "act": "adapt",
            "act_notes": "Extend to weekends",
            "starts_on": add_months(today, -9).isoformat(),
            "change_idea_id": str(library["Same-day review for reduced fetal movements"]),
        },
    )
    _score_history(url, pid, today, [(12, 0.5), (9, 1.0), (6, 2.0)])
    actions.set_progress(url, team, pid, 2.5)

    # 2. Magnesium sulphate at a neighbouring trust.
    if neighbours:
        team, pid = project(
            neighbours[0],
            {
                "title": "Magnesium sulphate for every birth before 30 weeks",
                "aim_what": "Increase mothers given magnesium sulphate before birth under 30 weeks",
                "aim_how_much": "to 90%",
                "aim_by_when": add_months(today, 6).isoformat(),
                "status": "implementing",
                "priority": "magnesium_sulphate",
            },
        )
        actions.add_measure(
            url, team, pid, {"kind": "outcome", "source": "matneo", "matneo_measure": "mgso4_under_30wk", "is_key": "1"}
        )
        actions.add_change_idea(url, team, {"title": "Magnesium on the preterm huddle checklist"}, project_id=pid)
        actions.save_pdsa(
            url,
            team,
            pid,
            {
                "title": "Grab box on delivery suite",
                "question": "Does a grab box cut the time to give magnesium?",
                "prediction": "Given within an hour of the decision",
                "starts_on": add_months(today, -6).isoformat(),
                "study_notes": "Given within an hour in 9 of 10 births",
                "act": "adopt",
                "change_idea_id": str(library["Magnesium sulphate grab box"]),
            },
        )
        _score_history(url, pid, today, [(21, 1.0), (15, 2.0), (9, 2.5), (4, 3.0)])
        actions.set_progress(url, team, pid, 3.5)

    # 3. Normothermia with a custom measure, at a trust elsewhere.
    if elsewhere:
        team, pid = project(
            elsewhere[0],
            {
                "title": "Keeping preterm babies warm",
                "aim_what": "Increase babies under 32 weeks admitted at 36.5–37.5°C",
                "aim_how_much": "from 60% to 85%",
                "aim_by_when": add_months(today, 9).isoformat(),
                "status": "testing",
                "priority": "normothermia",
            },
        )
        warm = actions.add_measure(
            url,
            team,
            pid,
            {
                "kind": "outcome",
                "source": "custom",
                "title": "Admitted at normal temperature (demo values)",
                "unit": "percent",
                "direction": "increase",
                "is_key": "1",
            },
        )
        _monthly(url, warm, today, _series(0.6, 0.62, 15, 15, 12))
        _score_history(url, pid, today, [(14, 0.5), (8, 1.5)])
        actions.set_progress(url, team, pid, 2.0)

    # 4. Smoke-free pregnancies at another trust.
    if len(elsewhere) > 1:
        team, pid = project(
            elsewhere[1],
            {
                "title": "Smoke-free pregnancies",
                "aim_what": "Increase women smoke-free at delivery",
                "aim_how_much": "by 5 percentage points",
                "aim_by_when": add_months(today, 12).isoformat(),
                "priority": "smoke_free",
            },
        )
        actions.add_measure(
            url,
            team,
            pid,
            {"kind": "outcome", "source": "matneo", "matneo_measure": "smoke_free_at_delivery", "is_key": "1"},
        )
        actions.save_pdsa(
            url,
            team,
            pid,
            {
                "title": "CO testing at every contact",
                "question": "Can every contact include a CO test?",
                "prediction": "Nine in ten contacts",
                "starts_on": add_months(today, -3).isoformat(),
                "change_idea_id": str(library["Opt-out carbon monoxide testing"]),
            },
        )
        _score_history(url, pid, today, [(7, 0.5)])
        actions.set_progress(url, team, pid, 1.0)
    return cid
