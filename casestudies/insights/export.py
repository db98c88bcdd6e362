"""CSV downloads of the insights pages' tables, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response

from casestudies.audit.services import csv_safe


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Every cell through csv_safe: a leading = + - @ tab or CR gets a ' before it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_safe(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return out.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    return Response(
        csv_text(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
