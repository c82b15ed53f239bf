"""Fault injection for crash-safety tests.

Setting ``MATNEO_FAULT_AT=<point>`` makes the process kill itself with SIGKILL — no clean-up,
exactly as a power cut or an OOM kill would — when it reaches that named point. Tests use
it to prove that a load killed at any stage leaves the store and ledger as they were.
The variable is unset in normal use, so this is a single environment lookup.
"""

from __future__ import annotations

import os
import signal

FAULT_POINTS = ("after_validation", "after_staging", "before_swap", "after_swap")


def fault_point(name: str) -> None:
    """Die here, hard, if the environment asks for it."""
    if os.environ.get("MATNEO_FAULT_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
