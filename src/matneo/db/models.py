"""Tables of the app store.

Small, transactional workflow data lives here; birth records live in the Parquet records
store (see ``matneo.records.store``). Schema changes go through Alembic migrations in
``matneo/db/migrations`` — never ``create_all`` outside tests of the migrations themselves.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Organisation(Base):
    """A node of the hierarchy trust → LMNS → region → England, synced from reference data."""

    __tablename__ = "organisations"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(default=True)


class User(Base):
    """A person who signs in; belongs to exactly one organisation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SignInThrottle(Base):
    """Failed sign-ins per e-mail address (``account``) or client address (``address``).

    In the app database, not in memory, so every server process sees the same counts; see
    :mod:`matneo.auth.throttle` for how it is updated atomically.
    """

    __tablename__ = "sign_in_throttles"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Load(Base):
    """One input file offered to ``matneo load`` (or a revert of one): the content-hash ledger.

    A file whose SHA-256 already appears with status ``loaded`` is skipped, which makes
    re-loads idempotent. Failed loads are kept too, so users can see what went wrong.
    ``status``: loaded | failed | reverted (a load undone; its file may be loaded again) |
    revert (the undoing, ``reverts_load_id`` naming the load). ``mode``: resubmit | upsert |
    revert. Rows added, replaced and removed are the outcome (migration 0008).
    """

    __tablename__ = "loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(40), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_format: Mapped[str] = mapped_column(String(16))
    file_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_loaded: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    rejection_file: Mapped[str | None] = mapped_column(String(500))
    store_version: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(254))
    mode: Mapped[str | None] = mapped_column(String(16))
    reverts_load_id: Mapped[int | None] = mapped_column(Integer)
    rows_added: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_replaced: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_removed: Mapped[int] = mapped_column(BigInteger, default=0)

    trust_months: Mapped[list[LoadTrustMonth]] = relationship(back_populates="load", cascade="all, delete-orphan")


class LoadTrustMonth(Base):
    """A trust-month a load changed: rows before and after, and how (migration 0008).

    ``rows`` were supplied by the file: ``added_rows`` new records and ``replaced_rows`` new
    copies of records already stored. ``removed_rows`` went without a replacement (a full
    resubmission without them); ``moved_rows`` went because the file supplies the same
    record in another month.
    """

    __tablename__ = "load_trust_months"
    __table_args__ = (UniqueConstraint("load_id", "trust_code", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.id", ondelete="CASCADE"), index=True)
    trust_code: Mapped[str] = mapped_column(String(16), index=True)
    month: Mapped[dt.date] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(BigInteger)
    replaced_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    existing_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    new_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    added_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    removed_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    moved_rows: Mapped[int] = mapped_column(BigInteger, default=0)

    load: Mapped[Load] = relationship(back_populates="trust_months")


class Signal(Base):
    """A concern about one trust's outcome found by one method, with its history.

    Raised when a method first signals; kept open while signals continue; acknowledged by a
    person with a comment; closed when the method has not signalled for the look-back window.
    """

    __tablename__ = "signals"
    __table_args__ = (UniqueConstraint("trust_code", "measure", "method", "first_signal_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(String(16), index=True)
    measure: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | acknowledged | closed
    first_signal_date: Mapped[dt.date] = mapped_column(Date)
    last_signal_date: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    statistic: Mapped[float | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[SignalEvent]] = relationship(back_populates="signal", order_by="SignalEvent.id")


class SignalEvent(Base):
    """One step in a signal's history: raised, updated, acknowledged (by whom, why), closed."""

    __tablename__ = "signal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(254))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    signal: Mapped[Signal] = relationship(back_populates="events")


class AuditEvent(Base):
    """An append-only record of who did what (sign-ins, uploads, acknowledgements, admin actions).

    No foreign keys on purpose (as job-server's auditing ADR): the trail must outlive what it
    describes. ``details`` is JSON text and must never hold patient identifiers.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")


# --------------------------------------------------------------------------------------
# Harm reports (the portal over matneo.harm routing; migration 0005)
# --------------------------------------------------------------------------------------


class HarmCase(Base):
    """One harm report and its case: a draft until submitted, then routed to the national bodies.

    ``report`` is the routing input (JSON of the fields of :mod:`matneo.harm.report`) and holds no patient
    identifiers; those live in their own columns so every view outside the owning trust can
    leave them out by construction. ``idempotency_key`` is unique per trust (NULLs are distinct
    on SQLite and PostgreSQL), so a repeated or concurrent submission finds the first one.
    """

    __tablename__ = "harm_reports"
    __table_args__ = (UniqueConstraint("trust_code", "idempotency_key", name="uq_harm_reports_trust_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # draft | submitted
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    report: Mapped[str] = mapped_column(Text, default="{}")
    routing: Mapped[str | None] = mapped_column(Text)  # the route() result at submission (reasons, pending)
    ruleset: Mapped[str | None] = mapped_column(String(16))
    event_date: Mapped[dt.date | None] = mapped_column(Date)  # birth or death date, for queues and linking
    nhs_number: Mapped[str | None] = mapped_column(String(10))  # identifier: owning trust only
    patient_label: Mapped[str | None] = mapped_column(String(200))  # identifier: owning trust only
    linked_record_id: Mapped[str | None] = mapped_column(String(64))  # identifier-like: owning trust only
    link_status: Mapped[str | None] = mapped_column(String(16))  # linked | none | ambiguous | unavailable
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class HarmRoute(Base):
    """One route of a submitted case (MNSI, PMRT, …) and where it stands.

    ``status`` is due | done | not_applicable; "overdue" is derived (due and ``next_due`` past).
    ``deadlines`` is JSON ``{name: ISO date}`` from the routing engine.
    """

    __tablename__ = "harm_routes"
    __table_args__ = (UniqueConstraint("report_id", "route_id", name="uq_harm_routes_report_route"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("harm_reports.id", ondelete="CASCADE"), index=True)
    route_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="due")
    deadlines: Mapped[str] = mapped_column(Text, default="{}")
    next_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    reference: Mapped[str | None] = mapped_column(String(100))
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class HarmFamilyContact(Base):
    """A contact with the family (free text: shown to the owning trust only)."""

    __tablename__ = "harm_family_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("harm_reports.id", ondelete="CASCADE"), index=True)
    contacted_on: Mapped[dt.date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(254))
    method: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(254))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class HarmCandourStep(Base):
    """A Duty of Candour step (regulation 20): verbal, written, findings shared. One row per step."""

    __tablename__ = "harm_candour_steps"
    __table_args__ = (UniqueConstraint("report_id", "step", name="uq_harm_candour_report_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("harm_reports.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    done_on: Mapped[dt.date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class HarmAttachment(Base):
    """Metadata of a document attached to a case (the file itself is kept in the trust's own systems)."""

    __tablename__ = "harm_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("harm_reports.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(254))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class HarmNotification(Base):
    """An in-app notice to a trust, e.g. a route that went overdue. Unique per (report, route, kind,
    deadline) so the daily check can run any number of times, and a route that goes overdue again
    against a new deadline (reopened, or re-dated by an amendment) is notified again."""

    __tablename__ = "harm_notifications"
    __table_args__ = (
        UniqueConstraint("report_id", "route_id", "kind", "due_on", name="uq_harm_notifications_per_deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("harm_reports.id", ondelete="CASCADE"), index=True)
    route_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # overdue
    message: Mapped[str] = mapped_column(Text)  # never holds patient identifiers
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    read_by: Mapped[str | None] = mapped_column(String(254))
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # null: not (yet) sent by e-mail
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # the deadline that was missed


class HarmChange(Base):
    """The case's own audit trail: who changed what, when, with the values before and after.

    Written in the same transaction as the change. No foreign key (as :class:`AuditEvent`): the
    trail must outlive what it describes. ``sensitive`` rows (free text, identifiers) show their
    values to the owning trust only.
    """

    __tablename__ = "harm_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(default=False)


class BoardPackRecord(Base):
    """One archived board pack: what a board was shown, kept so it can be shown again exactly.

    The HTML (and PDF, when printed) are stored once under the home directory, named by the
    SHA-256 of their bytes (:mod:`matneo.board.archive`); a row is never updated, so a later
    pack for the same organisation and month is a new row beside the earlier one.
    """

    __tablename__ = "board_packs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    month: Mapped[dt.date] = mapped_column(Date)
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    generated_by: Mapped[str] = mapped_column(String(254))
    store_version: Mapped[int | None] = mapped_column(Integer)
    html_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))


class AssuranceStatus(Base):
    """A trust's current position on one assurance requirement (``framework:item``).

    One row per trust and requirement; every change is also written to
    :class:`AssuranceChange` and the audit log in the same transaction.
    """

    __tablename__ = "assurance_statuses"
    __table_args__ = (UniqueConstraint("trust_code", "item_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    owner: Mapped[str | None] = mapped_column(String(200))
    due: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)  # why not applicable
    comment: Mapped[str | None] = mapped_column(Text)
    signed_off_by: Mapped[str | None] = mapped_column(String(254))
    signed_off_role: Mapped[str | None] = mapped_column(String(100))
    signed_off_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AssuranceChange(Base):
    """History of an assurance status: who changed which field, from what, to what, when."""

    __tablename__ = "assurance_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(String(16), index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    field: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class AssuranceWording(Base):
    """A trust's own wording for a packaged requirement whose wording needs local confirmation.

    One row per trust and requirement, shown on that trust's pages in place of the packaged title
    (which stays visible); every change is also an :class:`AssuranceChange` (field ``wording``)
    and an audit event in the same transaction.
    """

    __tablename__ = "assurance_wordings"
    __table_args__ = (UniqueConstraint("trust_code", "item_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(254))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LocalRequirement(Base):
    """A requirement a trust or an LMNS adds to the packaged frameworks (issue 14: "a trust or
    LMNS can add local items"), keyed ``local:<id>``. An LMNS's item applies to every trust in
    the LMNS, a trust's to that trust alone. Never deleted once added: it is retired (kept, with
    its statuses, evidence and history) so what was reported against it can still be read.
    Every change is an :class:`AssuranceChange` (``trust_code`` is the owning organisation) and
    an audit event in the same transaction (``matneo.assurance.local``).
    """

    __tablename__ = "local_requirements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)  # trust or LMNS
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    framework: Mapped[str | None] = mapped_column(String(64))  # packaged framework it sits under, or none
    source: Mapped[str | None] = mapped_column(Text)  # where it comes from and why
    due: Mapped[dt.date | None] = mapped_column(Date)  # the date it is due by, unless a trust records its own
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    retired_by: Mapped[str | None] = mapped_column(String(254))
    retired_reason: Mapped[str | None] = mapped_column(Text)


class VoiceTheme(Base):
    """One theme of a Maternity and Neonatal Voices Partnership's feedback for a trust and
    period: how often it came up, its overall sentiment, and optionally what was heard and what
    the service did ("you said, we did"). Aggregate, imported from a CSV; never a person's words
    attributed to them (``matneo.assurance.voice``)."""

    __tablename__ = "voice_themes"
    __table_args__ = (UniqueConstraint("trust_code", "source", "period", "theme", name="uq_voice_themes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM or YYYY-Qn
    theme: Mapped[str] = mapped_column(String(200))
    mentions: Mapped[int] = mapped_column(Integer)
    sentiment: Mapped[str | None] = mapped_column(String(16))  # positive | mixed | negative
    heard: Mapped[str | None] = mapped_column(Text)  # what we heard
    did: Mapped[str | None] = mapped_column(Text)  # what we did
    imported_by: Mapped[str] = mapped_column(String(254))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class EvidenceItem(Base):
    """A piece of assurance evidence a trust holds once: an uploaded document, a link, meeting
    minutes or a data extract. What it supports is in :class:`EvidenceMapping`, so the same item
    serves every requirement of every framework it evidences (``matneo.assurance.evidence``).

    An uploaded file is stored by its SHA-256 outside the web root; ``content_type`` is the
    type MatNeo recognised from the file's first bytes, never the type the browser claimed.
    """

    __tablename__ = "evidence_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # document | minutes | extract | link
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    dated: Mapped[dt.date | None] = mapped_column(Date)  # the meeting's or the extract's date
    link: Mapped[str | None] = mapped_column(String(2000))
    file_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(254))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class EvidenceMapping(Base):
    """That an evidence item supports one requirement (``framework:item``); removed on unmapping
    (the audit log keeps who mapped and unmapped what, when)."""

    __tablename__ = "evidence_mappings"
    __table_args__ = (UniqueConstraint("evidence_id", "item_key", name="uq_evidence_mappings_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id", ondelete="CASCADE"))
    trust_code: Mapped[str] = mapped_column(String(16), index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    mapped_by: Mapped[str] = mapped_column(String(254))
    mapped_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class VoiceFigure(Base):
    """One aggregate family or staff feedback figure of a trust for a month or year (e.g. the
    Friends and Family Test share positive); imported from a CSV, never person-level."""

    __tablename__ = "voice_figures"
    __table_args__ = (UniqueConstraint("trust_code", "source", "period", "measure", name="uq_voice_figures"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM, or YYYY for a yearly survey
    measure: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    responses: Mapped[int | None] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(254))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TriangulationDecision(Base):
    """What an LMNS or region decided about a trust that needs a conversation; never updated.

    A later decision is a new row, so the history of decisions is the table itself.
    """

    __tablename__ = "triangulation_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    decided_by_org: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    review_on: Mapped[dt.date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(254))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# --------------------------------------------------------------------------------------
# Quality improvement collaborative (matneo.qi; migration 0012)
# --------------------------------------------------------------------------------------


class QiCollaborative(Base):
    """A quality improvement collaborative: national, regional or an LMNS's own.

    ``org_code`` is the organisation that runs it (England, a region or an LMNS); its leads
    manage the membership and the change ideas library. Member trusts join in waves.
    """

    __tablename__ = "qi_collaboratives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # national | regional | lmns
    org_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QiWave(Base):
    """A wave of a collaborative: trusts that joined together, with its dates."""

    __tablename__ = "qi_waves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collaborative_id: Mapped[int] = mapped_column(ForeignKey("qi_collaboratives.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)


class QiMember(Base):
    """A member trust of a collaborative (in a wave, when waves are used)."""

    __tablename__ = "qi_members"
    __table_args__ = (UniqueConstraint("collaborative_id", "trust_code", name="uq_qi_members_trust"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collaborative_id: Mapped[int] = mapped_column(ForeignKey("qi_collaboratives.id", ondelete="CASCADE"), index=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("qi_waves.id", ondelete="SET NULL"))
    joined_on: Mapped[dt.date | None] = mapped_column(Date)


class QiProject(Base):
    """An improvement project of one trust (optionally one team), in one or more collaboratives.

    The aim statement is kept in its three parts (what, how much, by when) so pages can help
    write it and dashboards can show progress against it. ``progress_score`` is set by the team
    on the IHI 0.5–5 scale; the suggestion computed from the data is never stored here.
    """

    __tablename__ = "qi_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    team: Mapped[str] = mapped_column(String(200), default="")
    # One site of the trust (reference sites.csv): its MatNeo measures then count that site's births; 0021
    site_code: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text, default="")
    aim_what: Mapped[str] = mapped_column(Text, default="")
    aim_how_much: Mapped[str] = mapped_column(String(200), default="")
    aim_by_when: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planning")
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    progress_score: Mapped[float | None] = mapped_column()
    progress_set_by: Mapped[str | None] = mapped_column(String(254))
    progress_set_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    motivation: Mapped[str] = mapped_column(Text, default="")  # e.g. the signal or review that prompted it
    signal_id: Mapped[int | None] = mapped_column(
        ForeignKey("signals.id", ondelete="SET NULL")
    )  # the signal that prompted it
    priority: Mapped[str | None] = mapped_column(String(64))  # a MatNeoSIP priority (matneo.qi.priorities); 0019
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QiProjectCollaborative(Base):
    """A project's place in a collaborative (a project may belong to several)."""

    __tablename__ = "qi_project_collaboratives"

    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), primary_key=True)
    collaborative_id: Mapped[int] = mapped_column(
        ForeignKey("qi_collaboratives.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class QiTeamMember(Base):
    """A person on a project team and their role (names as the team writes them; no accounts needed)."""

    __tablename__ = "qi_team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))


class QiDriver(Base):
    """A node of a project's driver diagram: a primary driver, or a secondary driver under one."""

    __tablename__ = "qi_drivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # primary | secondary
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("qi_drivers.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)


class QiChangeIdea(Base):
    """A change idea: in a collaborative's shared library, or a project's own."""

    __tablename__ = "qi_change_ideas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collaborative_id: Mapped[int | None] = mapped_column(
        ForeignKey("qi_collaboratives.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QiDriverIdea(Base):
    """A change idea placed under a secondary driver of a project's driver diagram."""

    __tablename__ = "qi_driver_ideas"

    driver_id: Mapped[int] = mapped_column(ForeignKey("qi_drivers.id", ondelete="CASCADE"), primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("qi_change_ideas.id", ondelete="CASCADE"), primary_key=True)


class QiMeasure(Base):
    """An outcome, process or balancing measure of a project.

    ``source`` is ``matneo`` (a registered measure, computed for the project's trust from the
    birth records on every load: ``matneo_measure`` names it) or ``custom`` (values entered or
    imported into :class:`QiMeasureValue`). ``baseline_points`` freezes the run chart's median
    on the first points; changing it needs ``baseline_reason``.
    """

    __tablename__ = "qi_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # outcome | process | balancing
    source: Mapped[str] = mapped_column(String(16))  # matneo | custom
    matneo_measure: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16), default="percent")  # percent | per_1000 | count | value
    frequency: Mapped[str] = mapped_column(String(8), default="month")  # month | week
    direction: Mapped[str] = mapped_column(String(16), default="increase")  # increase | decrease
    rule_set: Mapped[str] = mapped_column(String(16), default="anhoej")  # anhoej | ihi
    baseline_points: Mapped[int | None] = mapped_column(Integer)
    baseline_reason: Mapped[str] = mapped_column(Text, default="")
    # JSON list of period starts (ISO dates) the team marked as astronomical points; 0019.
    astronomical: Mapped[str] = mapped_column(Text, default="[]")
    is_key: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QiMeasureValue(Base):
    """One period of a custom measure: numerator and denominator, or a value. One row per period."""

    __tablename__ = "qi_measure_values"
    __table_args__ = (UniqueConstraint("measure_id", "period_start", name="uq_qi_measure_values_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("qi_measures.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    numerator: Mapped[float | None] = mapped_column()
    denominator: Mapped[float | None] = mapped_column()
    value: Mapped[float | None] = mapped_column()
    entered_by: Mapped[str] = mapped_column(String(254))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QiPdsa(Base):
    """A Plan-Do-Study-Act cycle testing a change idea, pinned to its dates on the charts."""

    __tablename__ = "qi_pdsa_cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True)
    change_idea_id: Mapped[int | None] = mapped_column(ForeignKey("qi_change_ideas.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text, default="")
    prediction: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")  # who, what, when, where
    data_to_collect: Mapped[str] = mapped_column(Text, default="")
    do_notes: Mapped[str] = mapped_column(Text, default="")
    study_notes: Mapped[str] = mapped_column(Text, default="")
    act: Mapped[str | None] = mapped_column(String(16))  # adopt | adapt | abandon
    act_notes: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QiAnnotation(Base):
    """A note pinned to a date on a project's charts (one measure, or every measure when null)."""

    __tablename__ = "qi_annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True)
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("qi_measures.id", ondelete="CASCADE"))
    on_date: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
