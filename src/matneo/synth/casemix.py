"""Per-trust characteristics that stay fixed across years: size, sites, case mix, practice.

Real trusts differ persistently, and MatNeo's comparisons (funnel plots, standardisation,
inequalities) only have something to find if the synthetic trusts do too. Each trust's
parameters are drawn from its own random stream, seeded from ``(seed, trust code)``, so a
trust looks the same in every year and does not change when other trusts are added to or
removed from the hierarchy. Regional anchors (ethnicity, deprivation, maternal age) are
approximate, chosen to reproduce the broad pattern of births in England: London older and
much more Black and Asian, the North East mostly White and more deprived, the South
affluent and older.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from matneo.records.schema import ETHNIC_CATEGORY_CODES, NEONATAL_UNIT_LEVELS

# Order follows schema.ETHNIC_CATEGORY_CODES: A B C D E F G H J K L M N P R S Z 99.
ETHNIC_CODES: tuple[str, ...] = ETHNIC_CATEGORY_CODES
BLACK_CODES = frozenset({"M", "N", "P"})
ASIAN_CODES = frozenset({"H", "J", "K", "L"})
SOUTH_ASIAN_CODES = frozenset({"H", "J", "K"})
NOT_STATED_CODES = ("Z", "99")

# Share of births by mother's stated ethnic category (A..S), before the not-stated codes are
# added. Approximate regional patterns (census 2021 / ONS births by mother's country of birth
# order of size); trusts vary around them.
# fmt: off
_STATED = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S")
REGION_ETHNIC_MIX: dict[str | None, tuple[float, ...]] = {
    #      A     B     C     D     E     F     G     H     J     K     L     M     N     P     R     S
    "Y56": (.280, .010, .180, .012, .010, .010, .025, .065, .035, .050, .060, .035, .120, .025, .010, .070),
    "Y58": (.840, .004, .080, .008, .003, .006, .008, .008, .005, .003, .008, .003, .010, .002, .003, .010),
    "Y59": (.740, .005, .100, .007, .004, .007, .010, .025, .025, .008, .020, .004, .020, .003, .004, .015),
    "Y60": (.660, .004, .080, .015, .004, .006, .010, .050, .070, .012, .020, .012, .035, .008, .003, .020),
    "Y61": (.740, .004, .110, .008, .005, .006, .010, .020, .020, .015, .015, .004, .025, .004, .004, .012),
    "Y62": (.740, .004, .060, .008, .004, .005, .009, .020, .070, .015, .015, .003, .025, .004, .004, .020),
    "Y63": (.800, .003, .050, .006, .003, .005, .008, .010, .060, .008, .012, .002, .015, .003, .004, .015),
    None: (.660, .004, .090, .008, .005, .006, .010, .030, .040, .013, .020, .007, .040, .006, .004, .020),
}
# Centre of the IMD decile distribution of births (1 = most deprived); births skew deprived.
REGION_IMD_CENTRE: dict[str | None, float] = {
    "Y56": 4.3, "Y58": 6.0, "Y59": 6.7, "Y60": 4.7, "Y61": 6.2, "Y62": 3.9, "Y63": 4.2, None: 5.0,
}
# Mean maternal age at birth around 2017; rises ~0.1 year per year nationally.
REGION_AGE_MEAN: dict[str | None, float] = {
    "Y56": 32.3, "Y58": 30.9, "Y59": 31.4, "Y60": 30.0, "Y61": 30.9, "Y62": 29.9, "Y63": 29.8, None: 30.7,
}
# fmt: on
# Relative share of a trust's births by the neonatal unit level of each site: freestanding
# midwife-led units ("none") deliver few babies.
SITE_LEVEL_WEIGHT = {"NICU": 1.0, "LNU": 1.0, "SCU": 0.7, "none": 0.08}
# Extra multiplier on a site's weight for births in gestation bands <28 wk and 28–33 wk,
# so that very preterm babies are mostly born where there is a NICU or LNU.
SITE_LEVEL_PRETERM_WEIGHT = {
    "NICU": (1.0, 1.0),
    "LNU": (0.35, 1.0),
    "SCU": (0.08, 0.5),
    "none": (0.005, 0.03),
}
IMD_SPREAD = 2.3  # sd of a trust's IMD decile distribution around its centre
TRUST_SIZE_SIGMA = 0.3  # lognormal sd of trust size; z clipped so sizes stay ~2k–10k at scale 1
TRUST_SIZE_Z_RANGE = (-2.2, 1.7)


class HierarchyLike(Protocol):
    """What the generator needs from ``matneo.reference.organisations.OrgHierarchy``."""

    def trusts(self) -> Sequence[Any]: ...

    def ancestor_at(self, code: str, level: str) -> Any: ...

    def sites_of(self, trust_code: str) -> Sequence[Any]: ...


def _code_of(org: Any) -> str | None:
    """An organisation's code, whether the hierarchy hands back objects or plain codes."""
    if org is None:
        return None
    return str(getattr(org, "code", org))


def _ancestor(hierarchy: HierarchyLike, code: str, level: str) -> str | None:
    try:
        return _code_of(hierarchy.ancestor_at(code, level))
    except (KeyError, LookupError, ValueError):
        return None


def _trust_rng(seed: int, code: str, stream: int) -> np.random.Generator:
    """A generator that depends only on the seed, the trust code and what it is used for."""
    return np.random.default_rng(np.random.SeedSequence([seed, 0, stream, *code.encode("utf-8")]))


@dataclass(frozen=True)
class TrustTable:
    """Fixed per-trust parameters, arrays indexed by trust position (trust codes sorted)."""

    codes: tuple[str, ...]
    lmns_codes: tuple[str | None, ...]
    region_codes: tuple[str | None, ...]
    share: np.ndarray  # (T,) share of national births
    site_codes: tuple[str, ...]  # flat list of all sites
    site_levels: tuple[str, ...]  # neonatal unit level of each flat site
    site_table: np.ndarray  # (T, S) flat site index per trust column, -1 = padding
    site_probs: np.ndarray  # (3, T, S) site probabilities for gestation bands ≥34, 28–33, <28 wk
    ethnic_probs: np.ndarray  # (T, 18) over ETHNIC_CODES
    imd_probs: np.ndarray  # (T, 10) over deciles 1..10
    age_mean_2017: np.ndarray  # (T,)
    coc_effect: np.ndarray  # (T,) log-odds shift for continuity of carer
    mgso4_effect: np.ndarray  # (T,) log-odds shift for MgSO4 use
    steroids_effect: np.ndarray  # (T,) log-odds shift for full-course steroids
    cs_effect: np.ndarray  # (T,) log-odds shift for caesarean section

    @property
    def n(self) -> int:
        return len(self.codes)

    def index_of(self, code: str) -> int:
        """Position of a trust code, ValueError if the hierarchy does not know it."""
        try:
            return self.codes.index(code)
        except ValueError:
            raise ValueError(f"unknown trust code {code!r}: not a trust in the organisation hierarchy") from None


def build_trust_table(hierarchy: HierarchyLike, seed: int) -> TrustTable:
    """Draw every trust's fixed characteristics (see the module docstring for why per trust)."""
    trusts = sorted({code for t in hierarchy.trusts() if (code := _code_of(t)) is not None})
    if not trusts:
        raise ValueError("the organisation hierarchy has no trusts")
    n_trusts = len(trusts)
    lmns = tuple(_ancestor(hierarchy, c, "lmns") for c in trusts)
    regions = tuple(_ancestor(hierarchy, c, "region") for c in trusts)

    size_z = np.empty(n_trusts)
    ethnic = np.empty((n_trusts, len(ETHNIC_CODES)))
    imd = np.empty((n_trusts, 10))
    age = np.empty(n_trusts)
    effects = np.empty((n_trusts, 4))
    site_codes: list[str] = []
    site_levels: list[str] = []
    per_trust_sites: list[list[int]] = []
    per_trust_weights: list[np.ndarray] = []
    deciles = np.arange(1, 11)
    for i, code in enumerate(trusts):
        rng = _trust_rng(seed, code, 1)
        region = regions[i] if regions[i] in REGION_ETHNIC_MIX else None
        size_z[i] = np.clip(rng.standard_normal(), *TRUST_SIZE_Z_RANGE)
        base = np.asarray(REGION_ETHNIC_MIX[region])
        stated = rng.dirichlet(base / base.sum() * 40.0 + 1e-3)
        not_stated = 0.03 * np.exp(rng.normal(0.0, 0.4))
        ethnic[i, : len(_STATED)] = stated * (1.0 - not_stated)
        ethnic[i, len(_STATED) :] = (not_stated * 2 / 3, not_stated / 3)
        centre = np.clip(REGION_IMD_CENTRE[region] + rng.normal(0.0, 1.4), 1.5, 9.5)
        imd[i] = np.exp(-((deciles - centre) ** 2) / (2 * IMD_SPREAD**2))
        age[i] = REGION_AGE_MEAN[region] + rng.normal(0.0, 0.5) + 0.15 * (centre - 5.0)
        effects[i] = rng.normal(0.0, (0.9, 0.5, 0.5, 0.15))

        sites = sorted(hierarchy.sites_of(code), key=lambda s: _code_of(s) or "")
        srng = _trust_rng(seed, code, 2)
        idx, weights = [], []
        for site in sites:
            level = getattr(site, "neonatal_unit_level", "none")
            level = level if level in NEONATAL_UNIT_LEVELS else "none"
            idx.append(len(site_codes))
            site_codes.append(str(_code_of(site)))
            site_levels.append(level)
            weights.append(SITE_LEVEL_WEIGHT[level] * np.exp(srng.normal(0.0, 0.3)))
        per_trust_sites.append(idx)
        per_trust_weights.append(np.asarray(weights))

    rel = np.exp(TRUST_SIZE_SIGMA * size_z)
    width = max(1, max(len(s) for s in per_trust_sites))
    site_table = np.full((n_trusts, width), -1, dtype=np.int64)
    site_probs = np.zeros((3, n_trusts, width))
    for i, (idx, w) in enumerate(zip(per_trust_sites, per_trust_weights, strict=True)):
        if not idx:
            site_probs[:, i, 0] = 1.0  # no sites known: births get a null site
            continue
        site_table[i, : len(idx)] = idx
        levels = [site_levels[j] for j in idx]
        very = np.array([SITE_LEVEL_PRETERM_WEIGHT[lv][1] for lv in levels])
        extreme = np.array([SITE_LEVEL_PRETERM_WEIGHT[lv][0] for lv in levels])
        site_probs[0, i, : len(idx)] = w
        site_probs[1, i, : len(idx)] = w * very
        site_probs[2, i, : len(idx)] = w * extreme
    return TrustTable(
        codes=tuple(trusts),
        lmns_codes=lmns,
        region_codes=regions,
        share=rel / rel.sum(),
        site_codes=tuple(site_codes),
        site_levels=tuple(site_levels),
        site_table=site_table,
        site_probs=site_probs,
        ethnic_probs=ethnic / ethnic.sum(axis=1, keepdims=True),
        imd_probs=imd / imd.sum(axis=1, keepdims=True),
        age_mean_2017=age,
        coc_effect=effects[:, 0],
        mgso4_effect=effects[:, 1],
        steroids_effect=effects[:, 2],
        cs_effect=effects[:, 3],
    )
