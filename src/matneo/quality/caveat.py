"""The one caveat: a figure whose inputs are poorly recorded says so, in the same words everywhere.

"smoking status at delivery recorded for 62% of maternities: treat with caution" — on the
organisation pages, in the JSON API, in board packs and on signals, always made by
:func:`caveat` and, for a measure's figure, by :func:`figure_caveats` from the quality cube
(:mod:`matneo.quality.cube`) summed over the figure's trusts and months.

A figure resting on gestation or birth weight also says when too many of its births have a
weight implausible for their gestation (:func:`weight_caveat`): one of the pair is then probably
wrong, and a figure counting by gestation (preterm births, deaths from 24 weeks) may be too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Iterable

import polars as pl

from matneo.dates import add_months
from matneo.quality.cube import known_column, population_column
from matneo.quality.rules import KNOWN_SQL, Input, QualityRules, breakdown_inputs, inputs_of

#: The fields the birth-weight-for-gestation check speaks to: an implausible pair means one of
#: them is wrong, so a figure using either carries that check's caveat.
WEIGHT_CHECK_FIELDS = frozenset({"birth_weight_g", "gestation_weeks"})

#: Below this, a percentage reads "less than 1%" rather than "0%" (some were recorded).
_SOME = 1.0


def percent_text(percent: float) -> str:
    """A completeness as shown: whole percent rounded *down*, so 89.6% under a 90% threshold never
    reads "90%"; "less than 1%" when some but under one percent were recorded."""
    if 0 < percent < _SOME:
        return "less than 1%"
    return f"{math.floor(percent)}%"


def caveat(
    label: str, known: int, population: int, threshold: float, noun: str = "births", verb: str = "recorded"
) -> str | None:
    """The caveat for one input, or None when it meets ``threshold`` (percent) or has no population.

    >>> caveat("smoking status at delivery", 62, 100, 90.0, "maternities")
    'smoking status at delivery recorded for 62% of maternities: treat with caution'
    """
    if population <= 0:
        return None
    percent = 100.0 * known / population
    if percent >= threshold:
        return None
    return f"{label} {verb} for {percent_text(percent)} of {noun}: treat with caution"


def verb_of(item: Input) -> str:
    """'known' where a value can be present yet say nothing (ethnic category Z or 99), else 'recorded'."""
    return "known" if item.field in KNOWN_SQL else "recorded"


def input_caveat(item: Input, known: int, population: int, rules: QualityRules, min_population: int = 0) -> str | None:
    """The caveat of one input; none for a population under ``min_population`` (the suppression
    threshold for readers outside the organisation: docs/data-quality.md, "Who sees what")."""
    if population < min_population:
        return None
    return caveat(item.label, known, population, rules.threshold(item.field), item.noun, verb_of(item))


def uses_weight_check(measure_id: str) -> bool:
    """Whether a measure's figure rests on gestation or birth weight (:data:`WEIGHT_CHECK_FIELDS`)."""
    return any(item.field in WEIGHT_CHECK_FIELDS for item in inputs_of(measure_id))


def weight_caveat(judged: int, implausible: int, rules: QualityRules, min_population: int = 0) -> str | None:
    """The caveat when more than ``rules.implausible_weight_percent`` of the ``judged`` births (weight
    and gestation recorded, in a week with fences) have an implausible weight; None otherwise, or
    when fewer than ``min_population`` were judged.

    >>> weight_caveat(200, 5, QualityRules(implausible_weight_percent=1.0))
    'birth weight implausible for gestation in 2.5% of births with both recorded: treat with caution'
    """
    if judged <= 0 or judged < min_population:
        return None
    percent = 100.0 * implausible / judged
    if percent <= rules.implausible_weight_percent:
        return None
    shown = f"{math.floor(percent * 10) / 10:g}%"  # rounded down, as completeness is
    return f"birth weight implausible for gestation in {shown} of births with both recorded: treat with caution"


def totals(
    cube: pl.DataFrame, trusts: Collection[str] | None, start: dt.date | None, end: dt.date | None
) -> dict[str, int]:
    """Every count column of the quality cube summed over ``trusts`` (all when None) and the
    months from ``start`` to ``end`` (inclusive; open when None)."""
    condition = pl.lit(True)
    if trusts is not None:
        condition &= pl.col("trust_code").is_in(list(trusts))
    if start is not None:
        condition &= pl.col("month_start") >= start
    if end is not None:
        condition &= pl.col("month_start") <= end
    counts = [c for c in cube.columns if c not in ("trust_code", "site_code", "month_start")]
    summed = cube.filter(condition).select([pl.col(c).sum() for c in counts])
    return {c: int(summed[c][0] or 0) for c in counts} if summed.height else dict.fromkeys(counts, 0)


def figure_caveats(
    cube: pl.DataFrame,
    measure_ids: Iterable[str],
    trusts: Collection[str] | None,
    start: dt.date | None,
    end: dt.date | None,
    rules: QualityRules,
    min_population: int = 0,
) -> dict[str, list[str]]:
    """Per measure, the caveats of its figure over ``trusts`` and ``start``–``end`` (empty list: none)."""
    summed = totals(cube, trusts, start, end)
    found: dict[str, list[str]] = {}
    for measure_id in measure_ids:
        words = []
        for item in inputs_of(measure_id):
            text = input_caveat(
                item,
                summed.get(known_column(item), 0),
                summed.get(population_column(item), 0),
                rules,
                min_population,
            )
            if text is not None:
                words.append(text)
        if uses_weight_check(measure_id):
            text = weight_caveat(summed.get("bw_judged", 0), summed.get("bw_implausible", 0), rules, min_population)
            if text is not None:
                words.append(text)
        found[measure_id] = words
    return found


#: The breakdown each field stands behind (the count cube's derived dimensions).
BREAKDOWN_FIELDS = {"ethnic_group": "ethnic_category", "imd_quintile": "imd_decile"}


def breakdown_caveats(
    cube: pl.DataFrame,
    by: str,
    trusts: Collection[str] | None,
    start: dt.date | None,
    end: dt.date | None,
    rules: QualityRules,
    min_population: int = 0,
) -> list[str]:
    """The caveat of an inequality breakdown (by ethnic group or IMD quintile) when the field
    behind it is known for fewer records than its threshold."""
    summed = totals(cube, trusts, start, end)
    found = []
    for item in breakdown_inputs():
        if item.field == BREAKDOWN_FIELDS[by]:
            known, population = summed.get(known_column(item), 0), summed.get(population_column(item), 0)
            text = input_caveat(item, known, population, rules, min_population)
            if text is not None:
                found.append(text)
    return found


#: Months either side of a period's start that can belong to it: the longest period (rolling
#: three years) is 36 months.
PERIOD_REACH = 36

#: A signal's data are judged over the 12 months up to its latest signal: the window the
#: funnel and CUSUM evidence rests on for most methods.
SIGNAL_MONTHS = 12


def signal_caveats(
    cube: pl.DataFrame, trust: str, measure_id: str, last_signal: dt.date, rules: QualityRules
) -> list[str]:
    """The caveats of a signal: its measure's inputs at its trust over the 12 months to its latest
    signal ("a signal resting on poor data says so")."""
    end = last_signal.replace(day=1)
    return figure_caveats(cube, [measure_id], [trust], add_months(end, 1 - SIGNAL_MONTHS), end, rules)[measure_id]


def table_caveats(
    cube: pl.DataFrame,
    measure_id: str,
    lookup: pl.DataFrame,
    period: str,
    rules: QualityRules,
    min_population: int | Callable[[str], int] = 0,
    starts: Collection[dt.date] | None = None,
    sums: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Caveats for every (organisation, period) of a measure table at once: ``org_code``,
    ``period_start``, ``caveats`` (a list of words, empty when none).

    ``starts``: only the periods starting on these dates (a funnel's one period). The months read
    are then those within three years either side, which holds every month of any period MatNeo
    has, so the sums are the same and a page does not pay for the whole history.

    ``lookup``: trust → organisation at the table's level (:func:`matneo.measures.compute.org_lookup`).
    The months are put into periods the way the measures' are
    (:func:`matneo.measures.compute.assign_periods`), so a row's caveat covers exactly its months.
    ``min_population``: a number, or per organisation code (the suppression threshold outside the
    reader's scope).
    ``sums``: :func:`caveat_sums` of the same cube, lookup, period and starts, when the caller
    keeps them for several measures (a page with a funnel summary for every measure: issue 10).
    """
    empty = pl.DataFrame(schema={"org_code": pl.String, "period_start": pl.Date, "caveats": pl.List(pl.String)})
    inputs = inputs_of(measure_id)
    weights = uses_weight_check(measure_id)
    if not inputs or cube.is_empty() or (starts is not None and not starts):
        return empty
    summed = sums if sums is not None else caveat_sums(cube, lookup, period, starts, [measure_id])
    least = min_population if callable(min_population) else (lambda _code: min_population)
    found = []
    columns = [c for item in inputs for c in (known_column(item), population_column(item))]
    columns += ["bw_judged", "bw_implausible"] if weights else []
    for row in summed.select("org_code", *columns).iter_rows(named=True):
        words = []
        for item in inputs:
            text = input_caveat(
                item, row[known_column(item)], row[population_column(item)], rules, least(row["org_code"])
            )
            if text is not None:
                words.append(text)
        if weights:
            text = weight_caveat(row["bw_judged"], row["bw_implausible"], rules, least(row["org_code"]))
            if text is not None:
                words.append(text)
        found.append(words)
    return summed.select("org_code", "period_start").with_columns(pl.Series("caveats", found, dtype=pl.List(pl.String)))


def caveat_sums(
    cube: pl.DataFrame,
    lookup: pl.DataFrame,
    period: str,
    starts: Collection[dt.date] | None,
    measure_ids: Iterable[str],
) -> pl.DataFrame:
    """The quality cube's counts behind the caveats of ``measure_ids``, summed per organisation
    (``lookup``) and period: one pass for several measures, as :func:`table_caveats` needs them."""
    from matneo.measures.compute import assign_periods  # the measures engine: only when asked

    wanted = list(measure_ids)
    columns = list(
        dict.fromkeys(c for m in wanted for item in inputs_of(m) for c in (population_column(item), known_column(item)))
    )
    columns += ["bw_judged", "bw_implausible"] if any(uses_weight_check(m) for m in wanted) else []
    if starts is not None:
        first, last = add_months(min(starts), -PERIOD_REACH), add_months(max(starts), PERIOD_REACH)
        cube = cube.filter(pl.col("month_start").is_between(first, last))
    monthly = cube.group_by("trust_code", "month_start").agg([pl.col(c).sum() for c in columns])
    with_org = monthly.join(lookup.select("trust_code", "org_code"), on="trust_code")
    summed = (
        assign_periods(with_org, period).group_by("org_code", "period_start").agg([pl.col(c).sum() for c in columns])
    )
    if starts is not None:
        summed = summed.filter(pl.col("period_start").is_in(list(starts)))
    return summed
