"""Statistical methods for maternity and neonatal surveillance.

Confidence intervals (``matneo.stats.ci``) are documented in ``docs/methods.md``.
"""

from matneo.stats.ci import (
    EXACT_COUNT_THRESHOLD,
    byar_ci,
    poisson_exact_ci,
    proportion_ci,
    rate_ci,
    rate_ratio_ci,
    z_value,
)

__all__ = [
    "EXACT_COUNT_THRESHOLD",
    "byar_ci",
    "poisson_exact_ci",
    "proportion_ci",
    "rate_ci",
    "rate_ratio_ci",
    "z_value",
]
