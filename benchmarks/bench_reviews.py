"""Perinatal mortality reviews at national scale: a synthetic year of reviews for every trust.

Seeds the app store of a temporary MatNeo home with ``--per-trust`` reviews for every trust in the
organisation reference (panel, parents' items, issues, grades and actions on each), written straight
into the tables, then times what the pages ask for:

    .venv/bin/python benchmarks/bench_reviews.py                 # 30 reviews per trust, 5 repeats
    .venv/bin/python benchmarks/bench_reviews.py --per-trust 60

* learning across reviews ("themes") for a national, a regional, an LMNS and a trust user (target ≤ 1 s:
  the national user sees everything unsuppressed; the others go through the suppression), the first
  view and the next ones (kept per scope until a review changes);
* one review's detail and the trust's review list (target ≤ 300 ms).

Reports the median of the repeats, in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.config import Settings
from matneo.db.models import utcnow
from matneo.db.session import get_engine, upgrade
from matneo.reference.organisations import load_hierarchy
from matneo.reviews.learning import learning_table
from matneo.reviews.models import (
    Review,
    ReviewAction,
    ReviewGrade,
    ReviewIssue,
    ReviewMeeting,
    ReviewMember,
    ReviewParentItem,
)
from matneo.reviews.queries import review_detail, review_list
from matneo.reviews.rules import CONTRIBUTORY_FACTORS, areas_for

CATEGORIES = ("stillbirth", "late_fetal_loss", "neonatal_death", "neonatal_death", "stillbirth")


def seed(url: str, trusts: list[str], per_trust: int, rng: random.Random) -> int:
    """Bulk-insert the reviews and their parts; returns the number of reviews."""
    engine = get_engine(url)
    now = utcnow()
    reviews, parts = [], {name: [] for name in ("members", "meetings", "items", "issues", "grades", "actions")}
    review_id = 0
    for trust in trusts:
        for _ in range(per_trust):
            review_id += 1
            category = rng.choice(CATEGORIES)
            death = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(365))
            closed = rng.random() < 0.8
            reviews.append(
                dict(
                    id=review_id,
                    trust_code=trust,
                    status="closed" if closed else "open",
                    category=category,
                    record_id=f"{trust}-{review_id}",
                    death_date=death,
                    birth_date=death,
                    joint_trusts="[]",
                    notified_on=death + dt.timedelta(days=3),
                    started_on=death + dt.timedelta(days=rng.randrange(10, 90)),
                    draft_report_on=death + dt.timedelta(days=rng.randrange(100, 250)) if closed else None,
                    closed_on=death + dt.timedelta(days=260) if closed else None,
                    parents_told_on=death + dt.timedelta(days=2) if rng.random() < 0.99 else None,
                    mnsi_investigation=False,
                    story="{}",
                    created_by="bench",
                    created_at=now,
                    updated_at=now,
                )
            )
            for role in ("chair", "obstetrician", "midwife", *(("neonatologist",) if rng.random() < 0.8 else ())):
                parts["members"].append(dict(review_id=review_id, role=role, name="x", external=rng.random() < 0.15))
            parts["meetings"].append(dict(review_id=review_id, held_on=death + dt.timedelta(days=60), attendees="[]"))
            if rng.random() < 0.56:
                parts["items"].append(dict(review_id=review_id, kind="question", text="q", answer="a"))
            for _ in range(rng.randrange(3)):
                factors = rng.sample(sorted(CONTRIBUTORY_FACTORS), 2)
                parts["issues"].append(
                    dict(
                        review_id=review_id,
                        area="up_to_birth",
                        description="d",
                        relevant=rng.choice(("yes", "no", "unclear")),
                        factors=json.dumps(factors),
                    )
                )
            if closed:
                for area in areas_for(category):
                    parts["grades"].append(dict(review_id=review_id, area=area.id, grade=rng.choice("AABBCD")))
            for _ in range(rng.randrange(3)):
                done = rng.random() < 0.5
                parts["actions"].append(
                    dict(
                        review_id=review_id,
                        description="a",
                        owner="o",
                        due_on=death + dt.timedelta(days=300),
                        status="done" if done else "open",
                        evidence="e" if done else None,
                        done_on=death if done else None,
                    )
                )
    tables = {
        "members": ReviewMember,
        "meetings": ReviewMeeting,
        "items": ReviewParentItem,
        "issues": ReviewIssue,
        "grades": ReviewGrade,
        "actions": ReviewAction,
    }
    with engine.begin() as connection:
        connection.execute(Review.__table__.insert(), reviews)
        for name, model in tables.items():
            if parts[name]:
                connection.execute(model.__table__.insert(), parts[name])
    return review_id


def timed(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-trust", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    home = args.workdir or Path(tempfile.mkdtemp(prefix="matneo-bench-reviews-"))
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    hierarchy = load_hierarchy()
    trusts = [t.code for t in hierarchy.trusts()]
    total = seed(settings.database_url, trusts, args.per_trust, random.Random(7))
    own = trusts[0]
    users = {
        "national": ("national_analyst", "ENG"),
        "region": ("regional_lead", hierarchy.ancestor_at(own, "region").code),
        "lmns": ("lmns_lead", hierarchy.ancestor_at(own, "lmns").code),
        "trust": ("trust_staff", own),
    }
    access = {k: Access(SignedInUser(0, f"{k}@bench", role, org, ""), hierarchy) for k, (role, org) in users.items()}
    today = dt.date(2026, 6, 30)
    print(f"{total:,} reviews ({args.per_trust} for each of {len(trusts)} trusts); median of {args.repeats} runs")
    for name, a in access.items():
        cold = timed(lambda a=a: learning_table(settings.database_url, a, today), 1)
        warm = timed(lambda a=a: learning_table(settings.database_url, a, today), args.repeats)
        print(f"learning across reviews, {name} user: first {cold:,.0f} ms, then {warm:,.0f} ms")
    first = review_list(settings.database_url, access["trust"], today)[0]["id"]
    listing = timed(lambda: review_list(settings.database_url, access["trust"], today), args.repeats)
    print(f"review list, trust user: {listing:,.0f} ms")
    detail = timed(lambda: review_detail(settings.database_url, access["trust"], first, today), args.repeats)
    print(f"review detail, trust user: {detail:,.0f} ms")
    # issue 12, second part: charts, reports, the board pack section, the triangulation source
    from matneo.reviews.board import pack_reviews
    from matneo.reviews.learning import learning
    from matneo.reviews.report import author_view, report_file
    from matneo.triangulation.sources import _reviews
    from matneo.web.pages.reviews import LearningPage

    def charts() -> None:
        page = LearningPage("bench", learning(settings.database_url, access["lmns"], today=today))
        for chart in page.learning["charts"]:
            page.svg(chart)

    print(f"learning page with its four charts, LMNS user (figures kept): {timed(charts, args.repeats):,.0f} ms")
    scored = timed(lambda: author_view(settings, access["trust"], first, today), args.repeats)
    print(f"reports page (readability of the parents' report), trust user: {scored:,.0f} ms")
    html = timed(lambda: report_file(settings, access["trust"], first, "panel", "html", today), args.repeats)
    print(f"review report as HTML: {html:,.0f} ms")
    try:
        pdf = timed(lambda: report_file(settings, access["trust"], first, "parents", "pdf", today), 1)
        print(f"parents' report as PDF (Chromium): {pdf:,.0f} ms")
    except Exception as error:  # no Chromium here: say so and go on
        print(f"parents' report as PDF: not measured ({error})")
    lmns_trusts = [t.code for t in hierarchy.trusts_under(users["lmns"][1])]
    since = today - dt.timedelta(days=365)
    source = timed(lambda: _reviews(settings.database_url, lmns_trusts, today, since), args.repeats)
    print(f"triangulation source for the LMNS's {len(lmns_trusts)} trusts: {source:,.0f} ms")
    section = timed(lambda: pack_reviews(settings, lmns_trusts, today), args.repeats)
    print(f"board pack reviews section for the LMNS: {section:,.0f} ms")


if __name__ == "__main__":
    main()
