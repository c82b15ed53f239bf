"""The demo's reviews for the planted trust: realistic, made through the actions, made once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.db.session import transaction
from matneo.reference.organisations import OrgHierarchy
from matneo.reviews import queries
from matneo.reviews.demo import seed_demo_reviews
from matneo.reviews.due import due_for_trusts
from matneo.reviews.models import Review

from .conftest import OWN

TODAY = dt.date(2026, 12, 3)


def test_demo_reviews_are_seeded_once(
    with_deaths: Settings, hierarchy: OrgHierarchy, people: dict[str, Access]
) -> None:
    waiting = len(due_for_trusts(with_deaths, [OWN], TODAY))
    made = seed_demo_reviews(with_deaths, hierarchy, OWN, count=5, today=TODAY)
    assert made == 5 and len(due_for_trusts(with_deaths, [OWN], TODAY)) == waiting - 5
    assert seed_demo_reviews(with_deaths, hierarchy, OWN, count=5, today=TODAY) == 0
    with transaction(with_deaths.database_url) as session:
        statuses = sorted(session.scalars(select(Review.status).where(Review.trust_code == OWN)))
    assert "closed" in statuses and "open" in statuses
    listed = queries.review_list(with_deaths.database_url, people["trust"], TODAY)
    closed = next(r for r in listed if r["status"] == "closed")
    detail = queries.review_detail(with_deaths.database_url, people["trust"], closed["id"], TODAY)
    assert all(g["grade"] for g in detail["findings"]["grades"]) and detail["panel"]["members"]
    assert detail["changes"][0]["actor"] == "demo-seed@matneo.invalid"
