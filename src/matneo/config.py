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

DEFAULT_HOME = Path("~/.matneo")


@dataclass(frozen=True)
class Settings:
    """Resolved locations for one MatNeo instance."""

    home: Path
    database_url: str

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
    """Settings from the environment: ``MATNEO_HOME`` and ``MATNEO_DATABASE_URL``.

    The database defaults to an embedded SQLite file inside the home directory.
    """
    resolved = Path(home or os.environ.get("MATNEO_HOME") or DEFAULT_HOME).expanduser().resolve()
    url = os.environ.get("MATNEO_DATABASE_URL") or f"sqlite:///{resolved / 'matneo.db'}"
    return Settings(home=resolved, database_url=url)
