"""The live library behind the UI and the API: what a killed upload leaves is cleaned up on the next start."""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
import time

from index import IndexStore
from qa import QA
from qa.library import PENDING, DocumentLibrary
from support import REPO


def test_a_kill_9_during_an_upload_is_rolled_back_on_the_next_start(seed_index_copy, tmp_path, embedder):
    files = tmp_path / "files"
    files.mkdir()
    for number in range(200):
        (files / f"note-{number:03}.txt").write_text(f"Note {number}\n\n" + f"The pond was dredged in May {number}. " * 300)
    uploader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from qa import QA
        from qa.library import DocumentLibrary
        library = DocumentLibrary({str(seed_index_copy)!r}, QA.open({str(seed_index_copy)!r}))
        library.add_files(sorted(Path({str(files)!r}).iterdir()))
        """)], cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    uploads = seed_index_copy / "uploads"
    deadline = time.time() + 120
    while len(list(uploads.glob("*/*.txt"))) < 200:
        assert uploader.poll() is None and time.time() < deadline, "the upload did not start"
        time.sleep(0.05)
    time.sleep(0.5)                              # into the build, well before 200 files are embedded
    uploader.send_signal(signal.SIGKILL)
    uploader.wait(timeout=30)
    assert list(uploads.glob(f"*/{PENDING}")) and len(list(uploads.glob("*/*.txt"))) == 200

    library = DocumentLibrary(seed_index_copy, QA(IndexStore.open(seed_index_copy), embedder))
    assert (library.recovery.rolled_back, library.recovery.kept) == (200, 0)
    assert "200 file(s) that were never indexed removed" in library.recovery.message()
    assert not list(uploads.rglob("*")) or not list(uploads.glob("*/*")), "nothing half done is left"
    assert len(library.documents()) == 5
    assert not DocumentLibrary(seed_index_copy, library.qa).recovery, "the next start has nothing to do"


def test_a_duplicate_upload_is_reported_under_its_first_name_and_not_indexed_again(seed_index_copy, tmp_path, embedder):
    library = DocumentLibrary(seed_index_copy, QA(IndexStore.open(seed_index_copy), embedder))
    text = "Kyoto office\n\nSenseTime opened a research office in Kyoto in 2019."
    first, again, renamed = tmp_path / "a" / "kyoto.txt", tmp_path / "b" / "kyoto.txt", tmp_path / "c" / "copy.txt"
    for path in (first, again, renamed):
        path.parent.mkdir()
        path.write_text(text)
    assert library.add_files([first]).added == 1
    report = library.add_files([again, renamed])
    assert (report.added, report.embedded, report.error) == (0, 0, "")
    assert [(d.name, d.indexed_as) for d in report.duplicates] == [("kyoto.txt", "kyoto.txt"), ("copy.txt", "kyoto.txt")]
    assert len(library.documents()) == 6 and set(report.refused_files) == {again, renamed}
    within = tmp_path / "d" / "one.txt", tmp_path / "e" / "two.txt"
    for path in within:
        path.parent.mkdir()
        path.write_text("Lab notes\n\nThe centrifuge was serviced by Dana.")
    report = library.add_files(list(within))
    assert report.added == 1 and [(d.name, d.indexed_as) for d in report.duplicates] == [("two.txt", "one.txt")]
    seeded = library.documents()[0]
    assert [d.indexed_as for d in library.add_files([Path(seeded.path)]).duplicates] == [seeded.source]


def test_two_files_of_one_name_in_one_upload_do_not_overwrite_each_other(seed_index_copy, embedder):
    """Schemathesis found this as a 500: the second file of a name overwrote the first in the batch."""
    import io

    from qa.library import IncomingFile

    library = DocumentLibrary(seed_index_copy, QA(IndexStore.open(seed_index_copy), embedder))
    first = b"Kestrel survey\n\nThe survey counted 41 nesting pairs of kestrels in the valley."
    report = library.add_streams([IncomingFile("notes.txt", io.BytesIO(first)),
                                  IncomingFile("notes.txt", io.BytesIO(b"Other notes\n\nSomething else entirely."))])
    assert report.added == 1 and [w.reason for w in report.refused] == [
        "skipped: another file of this name is in the same upload"]
    with library.current() as qa:
        assert "41" in qa.ask("How many nesting pairs did the kestrel survey count?").answer


def test_an_upload_is_cut_as_the_index_was_and_re_embeds_nothing_else(tmp_path, embedder):
    from index.builder import IndexBuilder
    from index.settings import Settings
    from ingest import BUNDLED_CORPUS
    from ingest.chunker import Chunking

    index_dir = tmp_path / "index"
    first = IndexBuilder(index_dir, Settings(chunking=Chunking(max_tokens=60)), progress=False,
                         embedder=embedder)([BUNDLED_CORPUS])
    library = DocumentLibrary(index_dir, QA(IndexStore.open(index_dir), embedder))
    note = tmp_path / "kyoto.txt"
    note.write_text("Kyoto office\n\nSenseTime opened a research office in Kyoto in 2019.")
    report = library.add_files([note])
    assert (report.added, report.embedded, report.error) == (1, 1, "")
    with library.current() as qa:
        assert qa.store.manifest.chunking == Chunking(max_tokens=60)
        assert qa.store.count_passages() == first.passages + 1
