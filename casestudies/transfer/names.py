"""File names from outside (zip entries, files of a folder): which characters are refused,
and how a refused name is shown.

Control characters (ESC starts a terminal's escape sequences, newlines forge log lines),
bidirectional controls (U+202E shows "gnp.md" for "md.png") and other invisible format
characters have no place in a case file's name. A name holding one is refused before it
can reach a revision summary, the audit log, a page or a terminal, and the refusal shows it
escaped (\\x1b, \\u202e), so the person can see what is wrong with it."""

from __future__ import annotations

import unicodedata

# Cc: controls (C0, DEL, C1); Cf: format, including every bidi control and zero-width
# character; Zl/Zp: line and paragraph separators; Cs/Co/Cn: surrogates, private use and
# unassigned code points, which nothing shows reliably.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def is_refused(ch: str) -> bool:
    return unicodedata.category(ch) in _REFUSED_CATEGORIES


def visible(name: str, limit: int = 200) -> str:
    """The name with every refused character written as an escape (\\n, \\x1b, \\u202e),
    cut to `limit` characters: safe to show on a page, in a log or on a terminal."""
    shown = []
    for ch in name[:limit]:
        if not is_refused(ch):
            shown.append(ch)
        elif ch == "\n":
            shown.append("\\n")
        elif ch == "\t":
            shown.append("\\t")
        elif ch == "\r":
            shown.append("\\r")
        elif ord(ch) < 0x100:
            shown.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            shown.append(f"\\u{ord(ch):04x}")
        else:
            shown.append(f"\\U{ord(ch):08x}")
    return "".join(shown) + ("…" if len(name) > limit else "")


def name_problem(name: str) -> str | None:
    """Why this file name is refused, or None."""
    if any(is_refused(ch) for ch in name):
        return (
            f"the file name '{visible(name)}' holds control or invisible formatting characters "
            "(shown escaped); rename the file and try again"
        )
    return None
