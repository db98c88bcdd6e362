"""Import and export of case files (see docs/case-format.md)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casestudies.audit import services as audit
from casestudies.cases.data import CaseData
from casestudies.cases.revisions import case_to_data, is_unchanged, normalised, save_case_data, working_data
from casestudies.cases.vocab import Status
from casestudies.curation.duplicates import possible_duplicates
from casestudies.extensions import db
from casestudies.models import Case, User
from casestudies.notifications import events as notify
from casestudies.transfer.casefile import BundleFile, CaseFileError, Problem, dump_case_file, parse_case_file

# What an import does with each valid file (the dry run and the import page say it per file).
OUTCOMES: dict[str, str] = {
    "created": "new case",
    "unchanged": "unchanged",
    "pending": "pending change to a live case (stays live)",
    "updated": "draft updated",
    "published": "live case updated at once (publication confirmed)",
}


@dataclass
class ImportReport:
    problems: list[Problem] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # "new case"
    updated: list[str] = field(default_factory=list)  # "draft updated": a case learners don't read
    unchanged: list[str] = field(default_factory=list)
    # "pending change to a live case (stays live)": staged for a second curator, in review.
    pending: list[str] = field(default_factory=list)
    # A live case's text replaced at once: publication confirmed (admin page, --publish).
    published: list[str] = field(default_factory=list)
    # A new case's file that looks like a case already in the library (the editor's check):
    # file name -> "“Title” (the same title)", ...
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    # Files marked published that arrive (or would arrive) in review, not published.
    to_review: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def file_count(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged) + len(self.pending) + len(self.published)

    def outcomes(self) -> list[tuple[str, str]]:
        """(file name, what happens to it) for every valid file, in words."""
        return [(name, OUTCOMES[kind]) for kind in OUTCOMES for name in getattr(self, kind)]

    @property
    def written(self) -> int:
        return len(self.created) + len(self.updated) + len(self.pending) + len(self.published)


def validate_bundle(
    files: list[BundleFile], first_file_for_slug: dict[str, str] | None = None
) -> tuple[list[tuple[BundleFile, CaseData]], list[Problem]]:
    """Parse every file and report every problem, including a slug used twice in the
    bundle (first_file_for_slug: the slugs of earlier batches of the same bundle)."""
    parsed: list[tuple[BundleFile, CaseData]] = []
    problems: list[Problem] = []
    first_file_for_slug = {} if first_file_for_slug is None else first_file_for_slug
    for file in files:
        try:
            data = parse_case_file(file.data, file.name)
        except CaseFileError as exc:
            problems.extend(exc.problems)
            continue
        other = first_file_for_slug.setdefault(data.slug, file.name)
        if other != file.name:
            problems.append(Problem(file.name, 1, f"slug '{data.slug}' is also used by {other}"))
            continue
        parsed.append((file, data))
    if not files:
        problems.append(Problem("(import)", 0, "no .md case files found"))
    return parsed, problems


PUBLISHED_BY_COMMAND = "published as marked (command line --publish)"
PUBLISHED_BY_ADMIN = "published as marked (publication confirmed by an admin)"


def import_cases(
    files: list[BundleFile],
    *,
    actor: User | None,
    dry_run: bool = False,
    publish: bool = False,
    first_file_for_slug: dict[str, str] | None = None,
    flag_duplicates: bool = False,
) -> ImportReport:
    """Validate every file; unless this is a dry run and if all are valid, create or update
    the cases in one transaction. All or nothing: one invalid file means nothing is written,
    to the database or (since the index follows commits) to the search index.

    A file marked `published` arrives in review, for a second pair of eyes, unless
    `publish` is given: by the command line (trusted: `--publish`), or by an admin who
    confirmed publication in the browser. Either is recorded in the audit log. A file for a
    live (published) case never takes it offline: its differences wait as a pending change
    in review (curation/pending.py), unless publication is confirmed and the file is marked
    published."""
    if publish and actor is not None and not actor.can_confirm_publication_on_import():
        raise PermissionError("Only an admin can confirm publication on import")
    report = ImportReport(dry_run=dry_run)
    parsed, report.problems = validate_bundle(files, first_file_for_slug)
    slugs = [data.slug for _, data in parsed]
    existing = {
        case.slug: case
        for case in db.session.scalars(
            select(Case)
            .where(Case.slug.in_(slugs))
            .options(selectinload(Case.tags), selectinload(Case.dimensions), selectinload(Case.questions))
        )
    }
    for file, data in parsed:
        case = existing.get(data.slug)
        if case is not None and case.is_deleted:  # never update a binned case behind the curators' back
            report.problems.append(
                Problem(
                    file.name,
                    _key_line(file.data, "slug") or _key_line(file.data, "title") or 1,
                    f"slug '{data.slug}' belongs to a case in the bin: restore that case from the bin first, "
                    "or give this file another slug",
                )
            )
    if report.problems:
        return report
    # save_case_data flushes each case itself; without autoflush the queries it makes for
    # tags and dimensions do not flush (and queue for the index) the same case twice more.
    live_changed: list[Case] = []  # live cases whose text was replaced at once
    with db.session.no_autoflush:
        for file, data in parsed:
            case = existing.get(data.slug)
            if case is None and flag_duplicates:
                _flag_duplicates(file, data, report)
            if (
                case is not None
                and case.status == Status.PUBLISHED
                and not (publish and data.status == Status.PUBLISHED)
            ):
                _stage_for_live_case(case, file, data, actor=actor, dry_run=dry_run, report=report)
                continue
            note = ""
            if data.status == Status.PUBLISHED and not publish:
                if case is not None and is_unchanged(case, data):
                    report.unchanged.append(file.name)  # already published as it is
                    continue
                data = replace(data, status=Status.REVIEW)
                note = "marked published: arrived in review"
            elif data.status == Status.PUBLISHED:
                note = PUBLISHED_BY_COMMAND if actor is None else PUBLISHED_BY_ADMIN
            if case is not None and is_unchanged(case, data):
                report.unchanged.append(file.name)
                continue
            if note.endswith("in review"):
                report.to_review.append(file.name)
            was_live = case is not None and case.status == Status.PUBLISHED
            if case is None:
                report.created.append(file.name)
            else:
                (report.published if was_live else report.updated).append(file.name)
            if not dry_run:
                saved, _ = save_case_data(
                    data,
                    actor=actor,
                    case=case,
                    summary=f"Imported from {file.name}" + (f", {note}" if note else ""),
                    direct=True,  # a live case's file here is marked published, with publication confirmed
                )
                if was_live:
                    live_changed.append(saved)
                verb = "Updated" if case is not None else "Created"
                audit.record(
                    actor, "import", case=saved, detail=f"{verb} from {file.name}" + (f"; {note}" if note else "")
                )
    if dry_run:
        db.session.rollback()
    else:
        notify.cases_changed(live_changed, actor, "imported")
        db.session.flush()
    return report


def _flag_duplicates(file: BundleFile, data: CaseData, report: ImportReport) -> None:
    found = possible_duplicates(data)
    if found:
        report.duplicates[file.name] = [f"“{d.case.title}” ({' and '.join(d.reasons)})" for d in found]


PENDING_NOTE = "a pending change to a live case, in review: it stays live until another curator publishes it"


def _stage_for_live_case(
    case: Case, file: BundleFile, data: CaseData, *, actor: User | None, dry_run: bool, report: ImportReport
) -> None:
    """A file for a live case: the same as its live text is unchanged; otherwise its
    differences wait as a pending change in review, and learners keep reading the live text."""
    data = replace(data, status=Status.PUBLISHED)
    if is_unchanged(case, data) or (
        case.pending_status == Status.REVIEW
        and dump_case_file(normalised(working_data(case))) == dump_case_file(normalised(data))
    ):
        report.unchanged.append(file.name)
        return
    report.pending.append(file.name)
    if dry_run:
        return
    save_case_data(
        data, actor=actor, case=case, summary=f"Imported from {file.name}, {PENDING_NOTE}", pending_status=Status.REVIEW
    )
    audit.record(actor, "import", case=case, detail=f"Staged from {file.name}: {PENDING_NOTE}")


def import_batches(
    batches: Callable[[], Iterable[list[BundleFile]]],
    *,
    actor: User | None,
    dry_run: bool = False,
    publish: bool = False,
    reports: Callable[[list[BundleFile], ImportReport], None] | None = None,
    flag_duplicates: bool = False,
) -> ImportReport:
    """import_cases for a bundle too large to hold at once, read by batches() (called
    once per pass): every batch is checked, a slug used twice anywhere in the bundle
    included, before any is written; then all are written in this transaction, each batch
    flushed and let go. All or nothing, as import_cases. reports(batch, its report) is
    told of each batch of the checking pass (a page lists each file's outcome)."""
    total = ImportReport(dry_run=dry_run)
    slugs: dict[str, str] = {}
    for files in batches():
        report = import_cases(
            files,
            actor=actor,
            dry_run=True,
            publish=publish,
            first_file_for_slug=slugs,
            flag_duplicates=flag_duplicates,
        )
        _add(total, report)
        if reports is not None:
            reports(files, report)
        _let_go()
    if dry_run or not total.ok:
        return total
    written = ImportReport()
    for files in batches():
        report = import_cases(files, actor=actor, publish=publish)
        if not report.ok:  # changed since the check (another import): nothing is kept
            db.session.rollback()
            return report
        _add(written, report)
        _let_go()
    return written


def _add(total: ImportReport, report: ImportReport) -> None:
    total.problems += report.problems
    total.created += report.created
    total.updated += report.updated
    total.unchanged += report.unchanged
    total.pending += report.pending
    total.published += report.published
    total.duplicates |= report.duplicates
    total.to_review += report.to_review


def _let_go() -> None:
    """Forget the cases of a batch written (flushed) or checked, so that a large import
    does not hold every case in memory; users (the signed-in one) stay."""
    db.session.flush()
    for instance in list(db.session.identity_map.values()):
        # expunge cascades to related rows, which may come later in this list
        if not isinstance(instance, User) and instance in db.session:
            db.session.expunge(instance)


def _key_line(data: bytes, key: str) -> int | None:
    """The line of a top-level front-matter key, for a problem found after parsing."""
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def export_cases(
    directory: str | os.PathLike[str], slugs: list[str] | None = None, *, record: bool = True
) -> list[Path]:
    """Write one `<slug>.md` per case (all cases, or the named ones) into directory, and
    record the export in the audit log (not for a backup, which is a copy of everything)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    query = select(Case).options(
        selectinload(Case.tags),
        selectinload(Case.dimensions),
        selectinload(Case.questions),
        selectinload(Case.teaching_note),
    )
    if slugs:
        query = query.where(Case.slug.in_(slugs))
        found = set(db.session.scalars(select(Case.slug).where(Case.slug.in_(slugs))))
        missing = [s for s in slugs if s not in found]
        if missing:
            raise LookupError(f"no case with slug: {', '.join(missing)}")
    written = []
    for case in db.session.scalars(query.order_by(Case.slug)):
        path = target / f"{case.slug}.md"
        # newline="" keeps "\n" on every platform: the round trip is byte for byte.
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(dump_case_file(case_to_data(case)))
        written.append(path)
    if record:
        audit.record(None, "export", detail=f"Exported {len(written)} case file(s) to a folder from the command line")
    return written
