"""The sample library shows teaching notes to anyone trying the app: at least 12 of its cases
carry a whole teaching note (synopsis, objectives, who it suits, opening question, a
suggested plan with minutes, board plan, key points), spread over the three themes
(collections.json) and every one parsed by the case-file reader the import uses."""

from __future__ import annotations

import json

from casestudies.cli import SAMPLE_DIR
from casestudies.transfer.casefile.parse import parse_case_file


def test_twelve_sample_cases_across_the_three_themes_have_whole_teaching_notes() -> None:
    noted = {}
    for path in sorted(SAMPLE_DIR.glob("*.md")):
        case = parse_case_file(path.read_bytes(), path.name)
        notes = case.teaching_notes
        if notes is None or notes.is_empty():
            continue
        assert notes.synopsis and notes.suits and notes.opening_question and notes.board_plan, path.name
        assert len(notes.objectives) >= 2 and len(notes.key_points) >= 2, path.name
        assert len(notes.plan) >= 3 and all(step.minutes > 0 for step in notes.plan), path.name
        noted[case.slug] = notes
    assert len(noted) >= 12, sorted(noted)
    themes = json.loads((SAMPLE_DIR / "collections.json").read_text(encoding="utf-8"))
    assert len(themes) == 3
    for theme in themes:
        assert any(slug in noted for slug in theme["cases"]), theme["slug"]
