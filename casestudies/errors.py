"""The two kinds of error a service raises for the person using the app (indico's one error
path): the thing asked for is not there for them, or the service refuses with a message
written for them. `web.init_web` answers both app-wide (404, or the refusal's status with its
message) and the request's changes are discarded (`database.commit_request` rolls back every
error answer); a view catches a `Refused` only to show the message beside a form."""

from __future__ import annotations


class NotFound(LookupError):
    """Nothing of that kind with that id or token, or nothing this user may see: a 404."""


class Refused(ValueError):
    """The service won't do it; `str(error)` is the message for the user.

    `status` is the answer's code when no view catches it (400 by default; 409 for a
    conflict, 410 for something gone, 422 for work refused on its size)."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
