"""Perinatal mortality reviews (PMRT-style): find every death that needs one, run it, learn from it.

* :mod:`~matneo.reviews.eligibility`: which deaths need a review (pure, with its source);
* :mod:`~matneo.reviews.rules`: stages, deadlines, panel roles, grades and factors as configurable data;
* :mod:`~matneo.reviews.due`: eligible deaths in the birth records with no review yet;
* :mod:`~matneo.reviews.actions`: every change, with its trail, in one transaction;
* :mod:`~matneo.reviews.queries`: reading reviews, scoped by construction.
"""

from matneo.reviews import models as models  # the tables join the app store's metadata
from matneo.reviews.eligibility import Eligibility, assess, assess_record

__all__ = ["Eligibility", "assess", "assess_record"]
