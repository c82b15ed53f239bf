"""The generator needs only the hierarchy protocol: it works on a stand-in, including odd shapes."""

from __future__ import annotations

import pandas as pd

from matneo.synth import generate_year

from .checks import AS_OF, assert_valid
from .standin import StandInHierarchy


class NoSitesForSomeTrusts(StandInHierarchy):
    def sites_of(self, trust_code: str):
        return [] if trust_code.endswith("0") else super().sites_of(trust_code)


def test_generator_runs_on_a_stand_in_hierarchy() -> None:
    hierarchy = StandInHierarchy(n_trusts=12)
    df = generate_year(2021, scale=0.05, hierarchy=hierarchy, as_of=AS_OF).to_pandas()
    assert set(df.trust_code) == {t.code for t in hierarchy.trusts()}
    assert_valid(df, hierarchy)


def test_trusts_without_sites_get_null_sites() -> None:
    hierarchy = NoSitesForSomeTrusts(n_trusts=12)
    df = generate_year(2021, scale=0.02, hierarchy=hierarchy, as_of=AS_OF).to_pandas()
    no_site = df.trust_code.str.endswith("0")
    assert df.site_code[no_site].isna().all() and df.birth_site_level[no_site].isna().all()
    assert df.site_code[~no_site].notna().all()
    assert isinstance(df, pd.DataFrame)
