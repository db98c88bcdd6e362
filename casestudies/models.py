"""Typed SQLAlchemy models of the domain."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime, time

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from casestudies.extensions import db
from casestudies.vocab import Status


def password_hash_method() -> str:
    """scrypt (memory-hard), unless the configuration names another (the test suite's)."""
    return current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Role(enum.Enum):
    """Each role has the rights of the one before it."""

    LEARNER = "learner"
    FACILITATOR = "facilitator"
    CURATOR = "curator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank >= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A new value at every password change. Every account has one (migration 0009 gave one
    # to accounts from before 0005); the session loader refuses an account without one.
    session_token: Mapped[str | None] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # Set for an account an admin created with an initial password: every page leads to
    # the change-password page until its owner has chosen their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Single sign-on accounts: who the OpenID provider says this is. Such an account has no
    # local password (password_hash is empty).
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_user_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),)

    # Flask-Login's id for the session being signed in or loaded: "<session id>:<secret>"
    # (see casestudies/accounts/sessions.py). Not a column.
    session_key = None  # type: str | None

    @property
    def is_single_sign_on(self) -> bool:
        return self.oidc_subject is not None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())
        self.session_token = secrets.token_hex(16)

    def get_id(self) -> str:
        """Flask-Login's id kept in the session cookie: the server-side session's id and
        secret, so ending that session (sign-out, deactivation, an admin) ends the cookie."""
        if not self.session_key:
            raise RuntimeError("a user is signed in through casestudies.accounts.sessions.start_session")
        return self.session_key

    # UserMixin compares users by get_id(), which is now the session's key: compare the
    # accounts instead (one object per row in a database session anyway).
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False  # a single sign-on account has no local password
        return check_password_hash(self.password_hash, password)

    def has_role(self, role: Role) -> bool:
        return self.role >= role

    # Permissions, used by the policy decorator and by templates to hide what the server refuses.
    def can_see_unpublished(self) -> bool:
        return self.has_role(Role.CURATOR)

    def can_see_facilitator_notes(self) -> bool:
        return self.has_role(Role.FACILITATOR)

    def can_view_case(self, case: Case) -> bool:
        if case.is_deleted:
            return False  # a case in the bin is reached through the bin page only
        return case.is_published or self.can_see_unpublished()

    def can_curate(self) -> bool:
        return self.has_role(Role.CURATOR)

    def can_manage_users(self) -> bool:
        return self.has_role(Role.ADMIN)

    def can_override_review(self) -> bool:
        """Publish a case despite the two-person rule, giving a reason."""
        return self.has_role(Role.ADMIN)

    def can_confirm_publication_on_import(self) -> bool:
        return self.has_role(Role.ADMIN)

    def can_report_problem(self, case: Case) -> bool:
        return self.can_view_case(case)

    def can_resolve_reports(self) -> bool:
        return self.has_role(Role.CURATOR)


case_tag = Table(
    "case_tag",
    db.metadata,
    Column("case_id", ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)

case_dimension = Table(
    "case_dimension",
    db.metadata,
    Column("case_id", ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension_id", ForeignKey("dimension.id", ondelete="CASCADE"), primary_key=True),
)


class Dimension(db.Model):
    """One of the nine dimensions of the NHS Healthcare Leadership Model (seeded by a migration)."""

    __tablename__ = "dimension"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer)


class Tag(db.Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    # Tags match case-insensitively: the key is the case-folded name.
    key: Mapped[str] = mapped_column(String(50), unique=True)

    # Read-only: Case.tags writes the links. Kept in step as a backref, every case given a
    # tag made the tag's whole list of cases part of the next flush's history, and an
    # import of 4,000 cases spent a tenth of its database time comparing those lists.
    cases: Mapped[list[Case]] = relationship(secondary=case_tag, viewonly=True)


class Case(db.Model):
    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(600))
    seat: Mapped[str] = mapped_column(String(80), index=True)
    setting: Mapped[str | None] = mapped_column(String(80), index=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True, default=Status.DRAFT.value)
    consent: Mapped[str] = mapped_column(String(20), default="not-needed")
    review_by: Mapped[date | None] = mapped_column(Date)
    updated_on: Mapped[date | None] = mapped_column(Date)  # the case file's `updated` date
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Optimistic locking: a save names the version it started from.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # In the bin since then (restorable for BIN_DAYS); None for a live case.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    author: Mapped[User | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=case_tag, order_by="Tag.key")
    dimensions: Mapped[list[Dimension]] = relationship(secondary=case_dimension, order_by="Dimension.position")
    questions: Mapped[list[Question]] = relationship(
        back_populates="case", order_by="Question.position", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[CaseRevision]] = relationship(
        back_populates="case", order_by="CaseRevision.number", cascade="all, delete-orphan"
    )

    @hybrid_property
    def is_deleted(self) -> bool:
        """In the bin. In a query: `Case.is_deleted`, or `~Case.is_deleted` for live cases."""
        return self.deleted_at is not None

    @is_deleted.inplace.expression
    @classmethod
    def _is_deleted_expression(cls) -> ColumnElement[bool]:
        return cls.deleted_at.is_not(None)

    @hybrid_property
    def is_published(self) -> bool:
        """Published and not in the bin: what learners may see. Usable in queries too."""
        return self.status == Status.PUBLISHED and self.deleted_at is None

    @is_published.inplace.expression
    @classmethod
    def _is_published_expression(cls) -> ColumnElement[bool]:
        return and_(cls.status == Status.PUBLISHED.value, cls.deleted_at.is_(None))


class Question(db.Model):
    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # facilitator-only guidance
    minutes: Mapped[int | None] = mapped_column(Integer)

    case: Mapped[Case] = relationship(back_populates="questions")


class CaseRevision(db.Model):
    """A saved state of a case, kept as its case-file text so any revision can be read,
    compared, exported or restored with the one format parser."""

    __tablename__ = "case_revision"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_case_revision_case_id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()


class CaseStateChange(db.Model):
    """One move of a case between draft, review and published: who, when, and why."""

    __tablename__ = "case_state_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    actor: Mapped[User | None] = relationship()


class AuditEvent(db.Model):
    """Every change, kept even when the case or user it names is gone (ids and labels are
    copied, not foreign keys)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40), index=True)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    case_label: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")


class CaseReport(db.Model):
    """A reader's report of a problem with a case, and how a curator resolved it."""

    __tablename__ = "case_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an accessibility problem with a page (`page` says which), not with a case.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    page: Mapped[str | None] = mapped_column(String(500))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Set when a curator resolves it; None while the report is open.
    outcome: Mapped[str | None] = mapped_column(String(30), index=True)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolver_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    case: Mapped[Case | None] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolver: Mapped[User | None] = relationship(foreign_keys=[resolver_id])

    @property
    def is_open(self) -> bool:
        return self.outcome is None


class SearchLog(db.Model):
    """Learners' searches that found nothing, counted per normalised query (casefolded,
    spaces collapsed) and day: the gaps in the library. No user is stored; a row is kept
    for SEARCH_LOG_DAYS (see library.services.log_empty_search)."""

    __tablename__ = "search_log"
    __table_args__ = (UniqueConstraint("query", "day", name="uq_search_log_query_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)


class LoginAttempt(db.Model):
    """A failed sign-in, for throttling (see throttle.py)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SearchJournal(db.Model):
    """One change to a case's search document, in the order of its id. Written in the same
    transaction as the change (a rollback leaves no row); each server's indexer follows the
    journal into its own index (see casestudies/indexing/)."""

    __tablename__ = "search_journal"
    # AUTOINCREMENT on SQLite: ids are never reused, even after every row was pruned.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: the case may be deleted
    is_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SearchNode(db.Model):
    """A server's indexer and how far it has followed the journal (search-status)."""

    __tablename__ = "search_node"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    index_dir: Mapped[str] = mapped_column(String(1000), default="")
    # Every entry up to `cursor` was read; every entry up to `floor` is applied (or given
    # up: an id still missing after the gap time-out). Pruning stays at or below floors.
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    floor: Mapped[int] = mapped_column(BigInteger, default=0)
    lag_entries: Mapped[int] = mapped_column(Integer, default=0)
    lag_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_rebuild_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set by pruning past this node's floor, or by `reindex` for a node run elsewhere.
    rebuild_requested_at: Mapped[datetime | None] = mapped_column(DateTime)


# -- Discussion guides --
class Guide(db.Model):
    """A facilitator's plan for a teaching session: cases and chosen questions, timed.
    Belongs to its author; readable by others only through its share link."""

    __tablename__ = "guide"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(200), default="")
    session_on: Mapped[date | None] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    # Markdown (objectives: one per line), rendered with casestudies.markdown.
    objectives: Mapped[str] = mapped_column(Text, default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    opening_remarks: Mapped[str] = mapped_column(Text, default="")
    closing_remarks: Mapped[str] = mapped_column(Text, default="")
    ground_rules: Mapped[str] = mapped_column(Text, default="")
    how_it_went: Mapped[str] = mapped_column(Text, default="")  # the author's own, never shared
    how_it_went_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Set while shared: the unguessable part of the read-only link; None when not shared.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    author: Mapped[User] = relationship()
    items: Mapped[list[GuideCase]] = relationship(
        back_populates="guide", order_by="GuideCase.position", cascade="all, delete-orphan"
    )
    # Segments share the position sequence of `items`: the session runs in that order.
    segments: Mapped[list[GuideSegment]] = relationship(
        back_populates="guide", order_by="GuideSegment.position", cascade="all, delete-orphan"
    )
    # The participant edition as a handout for learners: its link, whether it is on, and
    # the optional dates it is open from and to (inclusive).
    handout_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    is_handout_on: Mapped[bool] = mapped_column(Boolean, default=False)
    handout_opens_on: Mapped[date | None] = mapped_column(Date)
    handout_closes_on: Mapped[date | None] = mapped_column(Date)

    @property
    def is_shared(self) -> bool:
        return self.share_token is not None


class GuideCase(db.Model):
    """A case in a guide. The case's text is never copied: the guide shows what is published
    now. The title is kept so a case later purged from the library can still be named."""

    __tablename__ = "guide_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guide.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    case_title: Mapped[str] = mapped_column(String(200))

    guide: Mapped[Guide] = relationship(back_populates="items")
    case: Mapped[Case | None] = relationship()
    questions: Mapped[list[GuideQuestion]] = relationship(
        back_populates="item", order_by="GuideQuestion.position", cascade="all, delete-orphan"
    )


class GuideQuestion(db.Model):
    """A question chosen for a case in a guide: one of the case's own (is_own False; its text
    is the link to the case's current question) or one the facilitator wrote."""

    __tablename__ = "guide_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_case_id: Mapped[int] = mapped_column(ForeignKey("guide_case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # the facilitator's own notes (own questions)
    minutes: Mapped[int] = mapped_column(Integer)
    is_own: Mapped[bool] = mapped_column(default=False)

    item: Mapped[GuideCase] = relationship(back_populates="questions")


# -- My learning: reading lists, collections, the reflection notebook --
class ReadingList(db.Model):
    """A learner's named list of saved cases. Its owner's alone, unless a facilitator or
    above shares it as a reading list: then anyone signed in may read it through its link."""

    __tablename__ = "reading_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Set while shared: the unguessable part of the link; None when not shared.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    shared_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    items: Mapped[list[ReadingListItem]] = relationship(
        back_populates="reading_list", order_by="ReadingListItem.position", cascade="all, delete-orphan"
    )

    @property
    def is_shared(self) -> bool:
        return self.share_token is not None


class ReadingListItem(db.Model):
    """A case saved in a list. The title is kept so a case later purged can still be named."""

    __tablename__ = "reading_list_item"
    __table_args__ = (UniqueConstraint("list_id", "case_id", name="uq_reading_list_item_list_id_case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("reading_list.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    case_title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    reading_list: Mapped[ReadingList] = relationship(back_populates="items")
    case: Mapped[Case | None] = relationship()


class Collection(db.Model):
    """A theme made by curators: a title, a short introduction (Markdown) and ordered cases.
    Featured collections are shown on the home page."""

    __tablename__ = "collection"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    introduction: Mapped[str] = mapped_column(Text, default="")
    is_featured: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[CollectionCase]] = relationship(
        back_populates="collection", order_by="CollectionCase.position", cascade="all, delete-orphan"
    )


class CollectionCase(db.Model):
    __tablename__ = "collection_case"
    __table_args__ = (UniqueConstraint("collection_id", "case_id", name="uq_collection_case_collection_id_case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    collection: Mapped[Collection] = relationship(back_populates="items")
    case: Mapped[Case] = relationship()


cpd_entry_reflection = Table(
    "cpd_entry_reflection",
    db.metadata,
    Column("cpd_entry_id", ForeignKey("cpd_entry.id", ondelete="CASCADE"), primary_key=True),
    Column("reflection_id", ForeignKey("reflection.id", ondelete="CASCADE"), primary_key=True),
)


class Reflection(db.Model):
    """A learner's reflective account: readable by its owner only. Every word the owner
    wrote (and the Code themes chosen) is in `sealed`, a Fernet token of a JSON object
    (casestudies/learning/sealing.py), so a database dump or backup does not expose it."""

    __tablename__ = "reflection"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "nmc" (the NMC reflective account) or "free"
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    # The session reflected on: a guide whose handout the writer opened.
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guide.id", ondelete="SET NULL"), index=True)
    # When the learning happened: month and year only, as the regulators' guidance asks.
    activity_year: Mapped[int | None] = mapped_column(Integer)
    activity_month: Mapped[int | None] = mapped_column(Integer)
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case | None] = relationship()
    guide: Mapped[Guide | None] = relationship()


class CpdEntry(db.Model):
    """One line of a learner's CPD log; the topic and notes are sealed like a reflection."""

    __tablename__ = "cpd_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    done_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(40))
    minutes: Mapped[int] = mapped_column(Integer)
    is_participatory: Mapped[bool] = mapped_column(default=False)
    code_theme: Mapped[str | None] = mapped_column(String(40))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    reflections: Mapped[list[Reflection]] = relationship(secondary=cpd_entry_reflection, order_by="Reflection.id")


# -- server-side sessions (issue 14) ------------------------------------------------------------
class UserSession(db.Model):
    """A signed-in session. The cookie carries the row's id and a secret whose hash is kept
    here, so the server can end a session: sign-out, deactivation, an admin, a password change."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    # How the session was opened: "password" or "single sign-on".
    method: Mapped[str] = mapped_column(String(20), default="password")

    user: Mapped[User] = relationship()


# -- Session plans, teaching notes and handouts --------------------------------------------
class GuideSegment(db.Model):
    """A part of a session that is not a case's questions: welcome, reading time, small-group
    work, a break, plenary, close, or an activity from a case's suggested plan. Its position
    is in the same sequence as the guide's cases."""

    __tablename__ = "guide_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guide.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200), default="")
    minutes: Mapped[int] = mapped_column(Integer)
    # The case a reading time is for (None for other kinds, or once the case left the guide).
    guide_case_id: Mapped[int | None] = mapped_column(ForeignKey("guide_case.id", ondelete="SET NULL"), index=True)

    guide: Mapped[Guide] = relationship(back_populates="segments")
    item: Mapped[GuideCase | None] = relationship()


class TeachingNote(db.Model):
    """A case's teaching note, for facilitators and above only: never shown to learners and
    never put in the search index. Part of the case file (`teaching_notes:`)."""

    __tablename__ = "teaching_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    synopsis: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")  # one per line
    suits: Mapped[str] = mapped_column(Text, default="")  # who the case suits
    opening_question: Mapped[str] = mapped_column(Text, default="")
    suggested_plan: Mapped[str] = mapped_column(Text, default="")  # "<minutes> <activity>" lines
    board_plan: Mapped[str] = mapped_column(Text, default="")
    key_points: Mapped[str] = mapped_column(Text, default="")  # one per line

    case: Mapped[Case] = relationship(
        backref=backref("teaching_note", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
    )


class HandoutVisit(db.Model):
    """A signed-in user opened a guide's handout: listed under "My sessions"."""

    __tablename__ = "handout_visit"
    __table_args__ = (UniqueConstraint("guide_id", "user_id", name="uq_handout_visit_guide_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guide.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    first_opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    guide: Mapped[Guide] = relationship()
    user: Mapped[User] = relationship()
