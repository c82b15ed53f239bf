"""Statistical methods for maternity and neonatal surveillance.

Confidence intervals (``matneo.stats.ci``) and Making Data Count SPC (``matneo.stats.spc``)
are documented in ``docs/methods.md``.
"""

from matneo.stats.ci import (
    EXACT_COUNT_THRESHOLD,
    byar_ci,
    poisson_exact_ci,
    proportion_ci,
    rate_ci,
    rate_ratio_ci,
    risk_ratio_ci,
    z_value,
)
from matneo.stats.spc import SpcResult, spc

__all__ = [
    "EXACT_COUNT_THRESHOLD",
    "SpcResult",
    "byar_ci",
    "poisson_exact_ci",
    "proportion_ci",
    "rate_ci",
    "rate_ratio_ci",
    "risk_ratio_ci",
    "spc",
    "z_value",
]
