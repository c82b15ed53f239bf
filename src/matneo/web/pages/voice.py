"""Family and staff voice pages: a trust's survey figures, and the import of a survey CSV.

The trust's own staff see every source and import its figures; its LMNS and region see only the
sources that may be shown above the trust (never the safety culture survey). The figures are
aggregates, so there is nothing to suppress beyond that rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile

from matneo.assurance import voice
from matneo.assurance.voice import ImportResult, Layout, ThemeLayout, ThemeSet, VoiceLine
from matneo.auth.access import Access, Forbidden
from matneo.web.services import BadRequest, NotFound, Services

__all__ = [
    "MAX_IMPORT_BYTES",
    "VoicePage",
    "VoiceProblem",
    "build",
    "check_declared_size",
    "import_file",
    "themes_for",
]

#: A year of monthly figures for a region's trusts is a few hundred KB; 5 MB is ample.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024


class VoiceProblem(Exception):
    """An import MatNeo cannot take (too large, not CSV): shown in the page's error summary."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class VoicePage:
    code: str
    name: str
    own: bool
    lines: list[VoiceLine]
    layouts: dict[str, Layout]
    result: ImportResult | None = None
    kept_to_trust: list[str] = field(default_factory=list)  # source titles the reader may not see
    themes: list[ThemeSet] = field(default_factory=list)  # the latest MNVP feedback themes
    theme_layouts: dict[str, ThemeLayout] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Family and staff voice: {self.name}"

    @property
    def max_mb(self) -> int:
        return MAX_IMPORT_BYTES // (1024 * 1024)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "figures": [
                {"source": line.layout.id, "measure": line.measure.id, "period": line.period, "value": line.value,
                 "responses": line.responses, "worst_recently": line.worst_recently}
                for line in self.lines
            ],
            "themes": [
                {"source": t.layout.id, "period": t.period,
                 "themes": [{"theme": x.theme, "mentions": x.mentions, "sentiment": x.sentiment, "before": x.before,
                             "rising_concern": x.rising_concern} for x in t.themes]}
                for t in self.themes
            ],
        }  # fmt: skip


def _trust(services: Services, access: Access, code: str):  # type: ignore[no-untyped-def]
    org = services.organisation(code)
    if not access.in_scope(org.code):
        raise NotFound(f"There is no organisation with code {code!r} in your area.")
    if org.level != "trust":
        raise BadRequest("Survey figures are per trust: open one of the area's trusts.")
    return org


def lines_for(services: Services, access: Access, code: str) -> list[VoiceLine]:
    """The trust's latest figures as this reader may see them (for the assurance page too)."""
    known = voice.layouts(services.settings.voice_layouts)
    own = access.user.org_code == code
    return voice.latest(services.settings.database_url, [code], known, above_trust=not own)[code]


def themes_for(services: Services, access: Access, code: str) -> list[ThemeSet]:
    """The trust's latest feedback themes as this reader may see them (for the assurance page too)."""
    known = voice.theme_layouts(services.settings.voice_layouts)
    own = access.user.org_code == code
    return voice.latest_themes(services.settings.database_url, [code], known, above_trust=not own)[code]


def build(services: Services, access: Access, code: str, result: ImportResult | None = None) -> VoicePage:
    org = _trust(services, access, code)
    known = voice.layouts(services.settings.voice_layouts)
    themed = voice.theme_layouts(services.settings.voice_layouts)
    own = access.user.org_code == org.code
    hidden = [] if own else [x.title for x in known.values() if not x.shown_above_trust]
    hidden += [] if own else [x.title for x in themed.values() if not x.shown_above_trust]
    return VoicePage(org.code, org.name, own, lines_for(services, access, org.code), known, result, hidden,
                     themes_for(services, access, org.code), themed)  # fmt: skip


def check_declared_size(content_length: str | None) -> None:
    """Refuse an import whose request says it is too large (or will not say), before a byte of it is read."""
    if content_length is None or not content_length.isdigit():
        raise VoiceProblem("Your browser did not say how large the file is. Try again.", 411)
    if (content_length or "").isdigit() and int(content_length or 0) > MAX_IMPORT_BYTES + FORM_OVERHEAD_BYTES:
        raise VoiceProblem(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.", 413)


async def import_file(
    services: Services, access: Access, code: str, source: str, file: UploadFile | None
) -> ImportResult:
    """Read the CSV (at most MAX_IMPORT_BYTES) and store the trust's figures from it; audited.

    Scope first (404 outside the reader's area, 403 for anyone but the trust's own staff), so a
    stranger learns nothing from the form's problems."""
    org = _trust(services, access, code)
    if access.user.org_code != org.code:
        raise Forbidden(f"Only {org.name}'s own staff can import its survey figures.")
    if file is None or not file.filename:
        raise VoiceProblem("Choose a CSV file to import.")
    known = voice.layouts(services.settings.voice_layouts)
    themed = voice.theme_layouts(services.settings.voice_layouts)
    if source not in known and source not in themed:
        raise VoiceProblem("Choose which survey the file is from.")
    data = bytearray()
    while chunk := await file.read(256 * 1024):
        data += chunk
        if len(data) > MAX_IMPORT_BYTES:
            raise VoiceProblem(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.", 413)
    if not data:
        raise VoiceProblem("The file is empty.")
    try:
        if source in themed:
            return voice.import_themes(services.settings.database_url, themed[source], bytes(data),
                                       allowed_trusts={org.code}, actor=access.user.email)  # fmt: skip
        return voice.import_csv(services.settings.database_url, known[source], bytes(data),
                                allowed_trusts={org.code}, actor=access.user.email)  # fmt: skip
    except ValueError as error:
        raise VoiceProblem(str(error)) from None
