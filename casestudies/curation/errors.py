"""The curators' errors: a refusal with a message for the user (a Refused), and the case or
revision a curator asked for that is not there (a NotFound, answered 404 app-wide)."""

from __future__ import annotations

from casestudies.cases.rules import consent_refusal
from casestudies.curation.duplicates import PossibleDuplicate
from casestudies.errors import NotFound, Refused
from casestudies.models import Case


class CurationError(Refused):
    """A rule refused the change; the message is for the user."""


class EditConflict(CurationError):
    status = 409

    def __init__(self, case: Case) -> None:
        super().__init__(
            f"Someone else saved this case while you were editing it (it is now at version {case.version}). "
            "Your changes have not been saved; they are still in the form below."
        )
        self.current_version = case.version


class PossibleDuplicates(CurationError):
    """The case looks like one already in the library; nothing is saved until the curator
    confirms (the editor sends back the ids shown, as `duplicates_seen`)."""

    def __init__(self, duplicates: list[PossibleDuplicate]) -> None:
        super().__init__("This case may already be in the library")
        self.duplicates = duplicates


class CurationNotFound(NotFound):
    """No such case (or revision, or case in the bin) for a curator."""


def sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def check_consent(status: str, consent: str) -> None:
    """Refuse a case with this status and this consent (the rule is `cases.rules`')."""
    refusal = consent_refusal(status, consent)
    if refusal is not None:
        raise CurationError(sentence(refusal))
