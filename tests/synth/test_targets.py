"""The calibration targets: interpolation, and agreement with the reference national figures."""

from __future__ import annotations

import pytest

from matneo.reference.codes import NATIONAL_FIGURES
from matneo.synth.targets import TARGETS, target, target_table

# reference.codes measure id -> synth target name, where both describe the same series.
SAME_SERIES = {
    "stillbirth_rate": "stillbirth_per_1000",
    "neonatal_mortality_24wk": "neonatal_24_per_1000",
    "preterm_birth_rate": "preterm_pct",
    "brain_injury_rate": "brain_injury_per_1000",
    "live_births": "live_births",
}


def test_targets_interpolate_between_published_anchors() -> None:
    assert target("stillbirth_per_1000", 2010) == 5.1
    assert target("stillbirth_per_1000", 2019) == 3.8
    assert target("live_births", 2017) == 646_794
    assert target("live_births", 2022) == 577_046
    assert target("preterm_pct", 2005) == 7.3, "held flat before the first anchor"
    assert 5.1 > target("stillbirth_per_1000", 2015) > 3.8
    assert all(t.source for t in TARGETS.values())
    table = target_table(range(2010, 2025))
    assert [row["year"] for row in table] == list(range(2010, 2025))


@pytest.mark.parametrize(
    "figure", [f for f in NATIONAL_FIGURES if f.measure_id in SAME_SERIES], ids=lambda f: f"{f.measure_id}-{f.period}"
)
def test_targets_agree_with_the_reference_national_figures(figure) -> None:
    """One set of published numbers: the generator is calibrated to what the measures are checked against."""
    assert target(SAME_SERIES[figure.measure_id], int(figure.period)) == pytest.approx(figure.value)
