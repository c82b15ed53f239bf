"""Statistical methods for maternity and neonatal surveillance.

Confidence intervals (``ci``), funnel plots (``funnel``) and Making Data Count SPC (``spc``) are
documented in ``docs/methods.md``; run charts with the Anhøj and IHI rules (``runchart``) in
``docs/qi.md``.
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
from matneo.stats.funnel import (
    FunnelResult,
    adjusted_funnel_limits,
    funnel,
    funnel_limits,
    funnel_position,
    overdispersion,
)
from matneo.stats.runchart import RunChartResult, run_chart
from matneo.stats.spc import SpcResult, spc

__all__ = [
    "EXACT_COUNT_THRESHOLD",
    "FunnelResult",
    "RunChartResult",
    "SpcResult",
    "adjusted_funnel_limits",
    "byar_ci",
    "funnel",
    "funnel_limits",
    "funnel_position",
    "overdispersion",
    "poisson_exact_ci",
    "proportion_ci",
    "rate_ci",
    "rate_ratio_ci",
    "risk_ratio_ci",
    "run_chart",
    "spc",
    "z_value",
]
