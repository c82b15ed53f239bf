"""Attachments of a case: metadata only (the document stays in the trust's own records system)."""

from __future__ import annotations

from matneo.auth.access import Access
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.db.models import HarmAttachment, utcnow
from matneo.db.session import transaction
from matneo.harm.portal.common import _change, _editable_case, _text


def add_attachment(settings: Settings, access: Access, case_id: int, *, file_name: str, description: str = "") -> int:
    """Record an attachment's metadata (the document stays in the trust's own records system)."""
    name = _text(file_name, "file_name", required=True, limit=255)
    text = _text(description, "description", required=False)
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = HarmAttachment(report_id=case.id, file_name=name, description=text, added_by=actor, added_at=utcnow())
        session.add(row)
        session.flush()
        after = {"file": name, "description": text}
        _change(session, case.id, actor, "attachment.added", "Attachment", None, after, sensitive=True)
        audit(session, actor, "harm.attachment", "harm_report", str(case.id), attachment=row.id)
        return row.id
