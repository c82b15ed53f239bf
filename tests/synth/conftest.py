"""Fixtures for the synthetic generator: the reference hierarchy and one national year.

The national year (2019, scale 1.0, ~620,000 babies) is generated once per session; every
consistency and rate test reads it, so the suite checks national-scale output without
paying for it more than once.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from matneo.synth import generate_year

from .checks import AS_OF


@pytest.fixture(scope="session")
def hierarchy() -> OrgHierarchy:
    return load_hierarchy()


@pytest.fixture(scope="session")
def national_2019(hierarchy: OrgHierarchy) -> pa.Table:
    return generate_year(2019, scale=1.0, seed=7, hierarchy=hierarchy, as_of=AS_OF)


@pytest.fixture(scope="session")
def national_2019_df(national_2019: pa.Table) -> pd.DataFrame:
    return national_2019.to_pandas()
