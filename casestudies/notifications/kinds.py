"""The kinds of notification, who may get each, and what each is set to until its owner
chooses: what a person needs to act on comes by email; what they can look up comes in the
app; the weekly digest is theirs to switch on."""

from __future__ import annotations

from dataclasses import dataclass

from casestudies.models import Role

EMAIL, APP, OFF = "email", "app", "off"
CHANNELS: dict[str, str] = {
    EMAIL: "By email and in the app",
    APP: "In the app only",
    OFF: "Off",
}


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # what the preferences page calls it
    hint: str
    audience: Role  # the lowest role that may get it
    default: str


REVIEW_REQUESTED = "review-requested"
REVIEW_OUTCOME = "review-outcome"
PROBLEM_REPORTED = "problem-reported"
REPORT_RESOLVED = "report-resolved"
REVIEW_DUE = "review-due"
GUIDE_CASE_CHANGED = "guide-case-changed"
HANDOUT_DATES = "handout-dates"
WEEKLY_DIGEST = "weekly-digest"

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            REVIEW_REQUESTED,
            "A case or a change waits for review",
            "When another curator sends a case or a change to a published case for review.",
            Role.CURATOR,
            EMAIL,
        ),
        Kind(
            REVIEW_OUTCOME,
            "Your case or change was published or returned",
            "With the reviewer’s note, when a curator publishes or returns what you wrote or sent.",
            Role.CURATOR,
            EMAIL,
        ),
        Kind(
            PROBLEM_REPORTED,
            "A reader reported a problem",
            "When a reader reports a problem with a case or a page.",
            Role.CURATOR,
            APP,
        ),
        Kind(
            REPORT_RESOLVED,
            "A problem you reported was resolved",
            "With the curator’s note, when a problem you reported is resolved.",
            Role.LEARNER,
            EMAIL,
        ),
        Kind(
            REVIEW_DUE,
            "A case’s review date is near or has passed",
            "Once when a published case’s review date is a week away or nearer, and once when it has passed.",
            Role.CURATOR,
            APP,
        ),
        Kind(
            GUIDE_CASE_CHANGED,
            "A case in your guide or handout changed or left the library",
            "When a case used in one of your guides or handouts is changed, unpublished or sent back to review.",
            Role.FACILITATOR,
            EMAIL,
        ),
        Kind(
            HANDOUT_DATES,
            "Your handout opens or closes tomorrow",
            "The day before one of your handouts opens to learners or closes.",
            Role.FACILITATOR,
            EMAIL,
        ),
        Kind(
            WEEKLY_DIGEST,
            "Weekly digest of new and updated cases",
            "Once a week, the cases published or updated in the seats and themes you choose below.",
            Role.LEARNER,
            OFF,
        ),
    )
}


def kinds_for(role: Role) -> list[Kind]:
    return [kind for kind in KINDS.values() if role >= kind.audience]
