"""Where MatNeo keeps its state.

Everything an instance owns — the records store, the app database (SQLite by default),
rejection reports, a user's own reference extract — lives under one data directory, so
several independent instances can run side by side by pointing ``MATNEO_HOME`` at
different directories.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_HOME = Path("~/.matneo")
QUIET_MONTHS_VARIABLE = "MATNEO_SIGNAL_QUIET_MONTHS"


@dataclass(frozen=True)
class Settings:
    """Resolved locations and choices for one MatNeo instance, passed explicitly to whatever needs them."""

    home: Path
    database_url: str
    #: Months without a signal before a register entry closes (``MATNEO_SIGNAL_QUIET_MONTHS``);
    #: None: the default, :data:`matneo.signals.detect.QUIET_MONTHS`.
    signal_quiet_months: int | None = None
    #: The Chromium (or Chrome) that prints board packs to PDF (``MATNEO_CHROMIUM``); None: the
    #: first ``chromium`` on ``PATH`` (:func:`matneo.board.render.chromium_path`).
    chromium: str | None = None
    #: An LMNS's or region's own concern rules (``MATNEO_CONCERN_RULES``, a JSON file); None: the
    #: packaged starting points (:func:`matneo.triangulation.rules.load_rules`).
    concern_rules: Path | None = None
    #: The instance's own survey file layouts for family and staff voice (``MATNEO_VOICE_LAYOUTS``, a
    #: JSON file); None: the packaged ones (:func:`matneo.assurance.voice.layouts`).
    voice_layouts: Path | None = None
    #: Completeness (percent of a figure's population with an input recorded) below which a
    #: figure carries a data-quality caveat (``MATNEO_COMPLETENESS_THRESHOLD``, e.g. ``90`` or
    #: ``90,smoking_at_delivery=95``); None: MatNeo's default,
    #: :data:`matneo.quality.rules.DEFAULT_COMPLETENESS_THRESHOLD`. NEEDS LOCAL CONFIRMATION.
    completeness_threshold: float | None = None
    #: Per-field thresholds overriding ``completeness_threshold``: ((field, percent), ...).
    completeness_thresholds: tuple[tuple[str, float], ...] = ()
    #: Tukey fence multiplier for birth weight within a week of gestation
    #: (``MATNEO_BIRTH_WEIGHT_FENCE``); None: :data:`matneo.quality.rules.DEFAULT_BIRTH_WEIGHT_FENCE`.
    birth_weight_fence: float | None = None
    #: Percent of births with weight and gestation recorded whose weight is implausible for the
    #: gestation above which a figure resting on either carries a caveat
    #: (``MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT``); None: MatNeo's default,
    #: :data:`matneo.quality.rules.DEFAULT_IMPLAUSIBLE_WEIGHT_PERCENT`. NEEDS LOCAL CONFIRMATION.
    implausible_weight_percent: float | None = None
    #: Days after a month's end after which its first load is late (``MATNEO_LATE_AFTER_DAYS``);
    #: None: :data:`matneo.quality.rules.DEFAULT_LATE_AFTER_DAYS`.
    late_after_days: int | None = None
    #: Undo retention: a load's undo file (what ``matneo loads revert`` restores) is kept while it
    #: is one of the last this many loads still in place (``MATNEO_UNDO_KEEP_LOADS``; a local
    #: operating choice, not a clinical rule: a month of daily loads) ...
    undo_keep_loads: int = 30
    #: ... or finished within this many days (``MATNEO_UNDO_KEEP_DAYS``; a quarter, so a load found
    #: wrong at the next quarterly data-quality review can still be undone); see
    #: :func:`matneo.records.store.undo_to_prune` and docs/architecture.md, "Undo retention".
    undo_keep_days: int = 92

    @property
    def records_dir(self) -> Path:
        return self.home / "records"

    @property
    def rejections_dir(self) -> Path:
        return self.home / "rejections"

    @property
    def staging_dir(self) -> Path:
        return self.home / "staging"

    @property
    def reference_dir(self) -> Path:
        return self.home / "reference"

    def ensure_dirs(self) -> None:
        for directory in (self.home, self.records_dir, self.rejections_dir, self.staging_dir):
            directory.mkdir(parents=True, exist_ok=True)


def get_settings(home: Path | str | None = None) -> Settings:
    """Settings from the environment: ``MATNEO_HOME``, ``MATNEO_DATABASE_URL``,
    ``MATNEO_SIGNAL_QUIET_MONTHS``, ``MATNEO_CHROMIUM``, ``MATNEO_CONCERN_RULES``, ``MATNEO_VOICE_LAYOUTS``
    and the data-quality settings (``MATNEO_COMPLETENESS_THRESHOLD``, ``MATNEO_BIRTH_WEIGHT_FENCE``,
    ``MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT``, ``MATNEO_LATE_AFTER_DAYS``) and the undo retention
    (``MATNEO_UNDO_KEEP_LOADS``, ``MATNEO_UNDO_KEEP_DAYS``).
    Only the edges call this (the command line, benchmarks);
    everything else is handed the result.

    The database defaults to an embedded SQLite file inside the home directory.
    """
    resolved = Path(home or os.environ.get("MATNEO_HOME") or DEFAULT_HOME).expanduser().resolve()
    url = os.environ.get("MATNEO_DATABASE_URL") or f"sqlite:///{resolved / 'matneo.db'}"
    raw = os.environ.get(QUIET_MONTHS_VARIABLE, "").strip()
    if raw and (not raw.isdigit() or int(raw) < 1):
        raise ValueError(f"{QUIET_MONTHS_VARIABLE} must be a whole number of months, 1 or more, not {raw!r}")
    rules = os.environ.get("MATNEO_CONCERN_RULES", "").strip()
    voice = os.environ.get("MATNEO_VOICE_LAYOUTS", "").strip()
    quality = _quality_settings()
    return Settings(
        home=resolved,
        database_url=url,
        signal_quiet_months=int(raw) if raw else None,
        chromium=os.environ.get("MATNEO_CHROMIUM", "").strip() or None,
        concern_rules=Path(rules).expanduser() if rules else None,
        voice_layouts=Path(voice).expanduser() if voice else None,
        undo_keep_loads=_whole_number("MATNEO_UNDO_KEEP_LOADS", 30),
        undo_keep_days=_whole_number("MATNEO_UNDO_KEEP_DAYS", 92),
        **quality,
    )


def _whole_number(variable: str, default: int) -> int:
    """A whole-number setting from the environment (``default`` when unset); ValueError naming it if not usable."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ValueError(f"{variable} must be a whole number, 0 or more, not {raw!r}")
    return int(raw)


def _quality_settings() -> dict[str, Any]:
    """The data-quality settings from ``MATNEO_COMPLETENESS_THRESHOLD``, ``MATNEO_BIRTH_WEIGHT_FENCE``
    and ``MATNEO_LATE_AFTER_DAYS``; ValueError naming the variable when one is not usable."""
    found: dict[str, Any] = {}
    threshold = os.environ.get("MATNEO_COMPLETENESS_THRESHOLD", "").strip()
    if threshold:
        from matneo.quality.rules import parse_thresholds  # the measure registry: only when asked

        try:
            found["completeness_threshold"], found["completeness_thresholds"] = parse_thresholds(threshold)
        except ValueError as error:
            raise ValueError(f"MATNEO_COMPLETENESS_THRESHOLD: {error}") from None
    fence = os.environ.get("MATNEO_BIRTH_WEIGHT_FENCE", "").strip()
    if fence:
        try:
            found["birth_weight_fence"] = float(fence)
        except ValueError:
            raise ValueError(f"MATNEO_BIRTH_WEIGHT_FENCE must be a number, not {fence!r}") from None
        if found["birth_weight_fence"] <= 0:
            raise ValueError(f"MATNEO_BIRTH_WEIGHT_FENCE must be more than 0, not {fence!r}")
    implausible = os.environ.get("MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT", "").strip()
    if implausible:
        try:
            found["implausible_weight_percent"] = float(implausible)
        except ValueError:
            raise ValueError(f"MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT must be a number, not {implausible!r}") from None
        if not 0 <= found["implausible_weight_percent"] <= 100:
            raise ValueError(
                f"MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT must be a percentage from 0 to 100, not {implausible!r}"
            )
    late = os.environ.get("MATNEO_LATE_AFTER_DAYS", "").strip()
    if late:
        if not late.isdigit():
            raise ValueError(f"MATNEO_LATE_AFTER_DAYS must be a whole number of days, not {late!r}")
        found["late_after_days"] = int(late)
    return found


@dataclass(frozen=True)
class MailSettings:
    """Where notification e-mails go out (an NHS mail relay). Off unless ``MATNEO_SMTP_HOST`` is set."""

    host: str
    port: int = 25
    sender: str = "matneo@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None


def get_mail_settings() -> MailSettings | None:
    """``MATNEO_SMTP_HOST`` (required to send), ``MATNEO_SMTP_PORT`` (25), ``MATNEO_MAIL_FROM``,
    ``MATNEO_SMTP_STARTTLS`` (``1`` to upgrade the connection), ``MATNEO_SMTP_USER`` and
    ``MATNEO_SMTP_PASSWORD``. None when no host is set: notifications stay in-app only."""
    host = os.environ.get("MATNEO_SMTP_HOST", "").strip()
    if not host:
        return None
    port = os.environ.get("MATNEO_SMTP_PORT", "25").strip()
    if not port.isdigit():
        raise ValueError(f"MATNEO_SMTP_PORT must be a port number, not {port!r}")
    return MailSettings(
        host=host,
        port=int(port),
        sender=os.environ.get("MATNEO_MAIL_FROM", "matneo@localhost").strip(),
        starttls=os.environ.get("MATNEO_SMTP_STARTTLS", "") == "1",
        username=os.environ.get("MATNEO_SMTP_USER") or None,
        password=os.environ.get("MATNEO_SMTP_PASSWORD") or None,
    )
