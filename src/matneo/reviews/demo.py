"""A realistic set of reviews for the demonstration's planted trust (``matneo demo``).

Synthetic, like everything the demo shows: the most recent deaths that need a review at the trust are
opened through the same actions as the web pages (so every step is trailed and audited as
``demo-seed``), and carried to different points: most closed (panel with and without an external member,
parents involved, issues, grades, actions), some still in progress, one waiting for MNSI. Idempotent: a
trust that already has reviews is left alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.config import Settings
from matneo.db.session import transaction
from matneo.harm.calendar import add_calendar_days
from matneo.reference.organisations import OrgHierarchy
from matneo.reviews import actions
from matneo.reviews.due import due_for_trusts
from matneo.reviews.models import Review
from matneo.reviews.rules import areas_for

__all__ = ["DEMO_ACTOR", "seed_demo_reviews"]

DEMO_ACTOR = "demo-seed@matneo.invalid"
QUESTIONS = (
    "Why was the reduced movement not investigated on the day we called?",
    "Would an earlier induction have made a difference?",
    "Who decided the baby should be moved to another hospital, and why then?",
)
ISSUES = (
    ("up_to_birth", "Fetal growth not plotted on a customised chart at 32 weeks", "yes", ["task", "education"]),
    (
        "up_to_birth",
        "Reduced fetal movements advice not followed at triage",
        "unclear",
        ["communication", "working_conditions"],
    ),
    ("mother_after_birth", "Bereavement follow-up appointment not offered", "no", ["organisational"]),
)
GRADES = ("A", "B", "B", "C", "A", "D")


def seed_demo_reviews(
    settings: Settings, hierarchy: OrgHierarchy, trust: str, *, count: int = 12, today: dt.date | None = None
) -> int:
    """Open and progress up to ``count`` reviews at ``trust``; returns how many were made (0 if it had some)."""
    day = today or dt.date.today()
    with transaction(settings.database_url) as session:
        if session.scalar(select(func.count()).select_from(Review).where(Review.trust_code == trust)):
            return 0
    access = Access(SignedInUser(0, DEMO_ACTOR, "trust_staff", trust, ""), hierarchy)
    deaths = due_for_trusts(settings, [trust], day)[-count:]
    made = 0
    for n, death in enumerate(deaths):
        review_id = actions.open_from_record(settings, access, death["record_id"])
        died = dt.date.fromisoformat(death["death_date"])

        def on(days: int, died: dt.date = died) -> str:
            return min(add_calendar_days(died, days), day).isoformat()

        actions.update_stages(settings, access, review_id, {"notified": on(3), "started": on(20 + n)}, today=day)
        members = [("chair", "Consultant obstetrician (chair)", False), ("midwife", "Risk midwife", False)]
        if n % 3 != 2:
            members.append(("obstetrician", "Consultant from a neighbouring trust", True))
        if death["outcome"] == "neonatal_death" and n % 4 != 3:
            members.append(("neonatologist", "Consultant neonatologist", False))
        ids = [actions.add_member(settings, access, review_id, role=r, name=w, external=e) for r, w, e in members]
        actions.add_meeting(settings, access, review_id, held_on=on(40 + n), attendees=ids, today=day)
        actions.update_parents(
            settings,
            access,
            review_id,
            told_on=on(2),
            told_by="Bereavement midwife",
            key_contact="Bereavement midwife",
            contribute="yes" if n % 2 == 0 else "no",
            today=day,
        )
        if n % 2 == 0:
            item = actions.add_parent_item(settings, access, review_id, kind="question", text=QUESTIONS[n % 3])
            actions.answer_parent_item(
                settings, access, review_id, item, answer="The panel looked at this carefully; see the report."
            )
        area, text, relevant, factors = ISSUES[n % 3]
        actions.add_issue(settings, access, review_id, area=area, description=text, relevant=relevant, factors=factors)
        if n == len(deaths) - 1:
            actions.update_findings(settings, access, review_id, mnsi_investigation=True, today=day)
            made += 1
            continue  # waiting for MNSI's report
        if n % 4 == 1:
            made += 1
            continue  # still in progress
        for i, a in enumerate(areas_for(death["outcome"])):
            actions.set_grade(settings, access, review_id, area=a.id, grade=GRADES[(n + i) % len(GRADES)])
        action = actions.add_action(
            settings,
            access,
            review_id,
            description="Audit growth charts at 32 weeks for 3 months and report to the maternity safety meeting",
            owner="Fetal medicine lead",
            due_on=on(150),
        )
        if n % 2 == 0:
            actions.update_action(
                settings,
                access,
                review_id,
                action,
                status="done",
                evidence="Audit presented at the safety meeting",
                done_on=on(140),
                today=day,
            )
        actions.update_stages(
            settings,
            access,
            review_id,
            {"draft_report": on(90 + 10 * n), "shared_with_parents": on(110 + 10 * n), "closed": on(120 + 10 * n)},
            today=day,
        )
        made += 1
    return made
