"""A struggling trust: parsing the command-line form and the effect on the generated data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from matneo.synth import Struggling, generate_year, parse_struggling, write_dataset

from .checks import AS_OF, assert_valid


def test_parse_struggling() -> None:
    assert parse_struggling("RXX:2019-06:2.0") == Struggling("RXX", dt.date(2019, 6, 1), 2.0)
    assert parse_struggling(" R0A:2021-12:1.5 ") == Struggling("R0A", dt.date(2021, 12, 1), 1.5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("RXX:2019-06", "TRUST:YYYY-MM:FACTOR"),
        ("RXX-2019-06-2.0", "TRUST:YYYY-MM:FACTOR"),
        (":2019-06:2.0", "TRUST:YYYY-MM:FACTOR"),
        ("RXX:2019-6:2.0", "TRUST:YYYY-MM:FACTOR"),
        ("RXX:2019-13:2.0", "month must be 01–12"),
        ("RXX:2019-06:two", "is not a number"),
        ("RXX:2019-06:0", "positive"),
        ("RXX:2019-06:-1", "positive"),
        ("RXX:2019-06:nan", "positive"),
    ],
)
def test_parse_struggling_rejects_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_struggling(spec)


def test_struggling_needs_a_positive_factor() -> None:
    with pytest.raises(ValueError, match="positive"):
        Struggling("RXX", dt.date(2019, 1, 1), 0.0)


def test_unknown_struggling_trust_is_refused(hierarchy, tmp_path) -> None:
    bad = [Struggling("NOPE", dt.date(2019, 1, 1), 2.0)]
    with pytest.raises(ValueError, match="NOPE"):
        generate_year(2019, scale=0.01, hierarchy=hierarchy, struggling=bad, as_of=AS_OF)
    with pytest.raises(ValueError, match="NOPE"):
        write_dataset(tmp_path, [2019], scale=0.01, hierarchy=hierarchy, struggling=bad, as_of=AS_OF)
    assert not list(tmp_path.iterdir()), "nothing written"


def test_struggling_trust_gets_worse_after_the_start_and_nothing_else_changes(hierarchy) -> None:
    trust = hierarchy.trusts()[0].code
    start = dt.date(2019, 7, 1)
    base = generate_year(2019, scale=0.5, seed=11, hierarchy=hierarchy, as_of=AS_OF).to_pandas()
    worse = generate_year(
        2019, scale=0.5, seed=11, hierarchy=hierarchy, as_of=AS_OF, struggling=[Struggling(trust, start, 4.0)]
    ).to_pandas()
    assert_valid(worse, hierarchy)
    assert len(base) == len(worse)
    affected = ((base.trust_code == trust) & (base.birth_datetime >= str(start))).to_numpy()
    assert base[~affected].equals(worse[~affected]), "other trusts and earlier months are untouched"
    assert base.record_id.equals(worse.record_id)

    def harms(df):
        rows = df[affected]
        return np.array(
            [
                (rows.outcome == "stillbirth").sum(),
                rows.neonatal_death_datetime.notna().sum(),
                rows.brain_injury.fillna(False).astype(bool).sum(),
            ]
        )

    before, after = harms(base), harms(worse)
    assert (after >= before).all()
    # Odds ×4 on ~1,400 births: expect ~3× as many events in total; allow for noise.
    assert after.sum() > 2 * before.sum() + 5
