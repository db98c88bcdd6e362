"""Whoosh's temporary files stay inside the index directory, so two servers on one machine
(two `make run` in one checkout, each with its own SEARCH_INDEX_DIR) never share any."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from search import CaseDoc, SearchIndex, SearchRequest
from search.whoosh_internals import check_installed_whoosh

from .conftest import ROOT


def _docs(start: int, count: int, word: str) -> list[CaseDoc]:
    return [
        CaseDoc(n, f"case-{n}", f"Case {n}", "Summary.", "Porter", "Ward", f"The {word} ward round {n}.", "published")
        for n in range(start, start + count)
    ]


def test_index_writes_and_the_start_up_check_use_no_system_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system temporary folder is a plain file: anything written under it fails.
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_folder))
    monkeypatch.setenv("TMPDIR", str(not_a_folder))

    check_installed_whoosh()
    index = SearchIndex(tmp_path / "index")
    index.rebuild(_docs(1, 50, "lanyard"))
    index.upsert(_docs(51, 5, "lanyard"))  # a small writer, merging segments
    with index.writing(expected=1500) as batch:  # a bulk writer
        for doc in _docs(100, 1500, "lanyard"):
            batch.upsert(doc)
    index.delete([1])
    page = index.search(SearchRequest("lanyard", statuses=("published",), per_page=5))
    assert page.total == 50 + 5 + 1500 - 1
    assert not_a_folder.read_text() == ""


WRITER = textwrap.dedent(
    """
    import sys
    from search import CaseDoc, SearchIndex
    from search.whoosh_internals import check_installed_whoosh

    index = SearchIndex(sys.argv[1])
    docs = [CaseDoc(n, f"c{n}", "Case", "Summary.", "Porter", "Ward", f"ward round {n}", "published")
            for n in range(1, 40)]
    index.rebuild(docs)
    for round in range(int(sys.argv[2])):
        check_installed_whoosh()  # what every process does when it imports search
        index.upsert(docs[round % 39 : round % 39 + 3])
    print(index.doc_count())
    """
)


@pytest.mark.slow  # starts other processes: in `make test`, not test-fast
def test_two_processes_writing_their_own_indexes_at_once_do_not_collide(tmp_path: Path) -> None:
    shared_tmp = tmp_path / "shared-tmp"  # one TMPDIR for both, as two `make run` in one shell
    shared_tmp.mkdir()
    env = {"TMPDIR": str(shared_tmp), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path / f"index-{name}"), "250"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err[-2000:]
        assert out.strip() == "39"
    assert list(shared_tmp.iterdir()) == []
