"""An index is never lost or silently wrong: overlapping builds, broken pointers, foreign folders,
damaged files and full disks each end in the old data intact or a one-line error naming the fix."""
import errno
import json
import shutil
import sqlite3

import faiss
import numpy as np
import pytest

import index.dense
import index.store
from index import IndexBuilder, IndexStore
from index.store import DiskFull, IndexCorrupt, NotAnIndex, current_version
from ingest.reader import file_digest
from qa import QA
from qa.cli import main as cli


def _note(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _cached_vectors(index_dir):
    return sqlite3.connect(index_dir / "embeddings.sqlite").execute("SELECT COUNT(*) FROM vectors").fetchone()[0]


def _sources(index_dir):
    return {d.source for d in IndexStore.open(index_dir).documents()}


def test_overlapping_builds_keep_both_documents(seed_index_copy, tmp_path, embedder):
    first = _note(tmp_path / "a", "alpha.txt", "Alpha note\n\nThe alpha sensor was calibrated on Monday.")
    second = _note(tmp_path / "b", "beta.txt", "Beta note\n\nThe beta sensor was replaced on Tuesday.")
    slow = IndexBuilder(seed_index_copy, progress=False, embedder=embedder)   # constructed, not yet run
    IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([second])
    slow([first])
    assert {"alpha.txt", "beta.txt"} <= _sources(seed_index_copy)


def test_a_broken_current_is_refused_and_repaired_never_deleted(seed_index_copy, tmp_path, embedder, capsys):
    intact = current_version(seed_index_copy)
    cached = _cached_vectors(seed_index_copy)
    (seed_index_copy / "CURRENT").write_text("v-20990101T000000-deadbeef")
    note = _note(tmp_path / "docs", "one.txt", "One note\n\nA single new document.")

    with pytest.raises(IndexCorrupt, match="--repair"):
        IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([note])
    assert cli(["index", str(note), "--index", str(seed_index_copy), "--quiet"]) == 2
    assert "qa index --repair" in capsys.readouterr().err
    assert cli(["ask", "When was SenseTime founded?", "--index", str(seed_index_copy)]) == 2
    assert "not a complete index version" in capsys.readouterr().err
    assert intact.is_dir() and _cached_vectors(seed_index_copy) == cached > 0

    assert cli(["index", "--repair", "--index", str(seed_index_copy)]) == 0
    assert current_version(seed_index_copy) == intact and len(_sources(seed_index_copy)) == 5


def test_versions_without_current_are_refused(seed_index_copy):
    (seed_index_copy / "CURRENT").unlink()
    with pytest.raises(IndexCorrupt, match="no CURRENT file; run: qa index --repair"):
        IndexStore.open(seed_index_copy)


def test_a_folder_of_user_files_is_refused_and_nothing_in_it_deleted(tmp_path, embedder):
    folder = tmp_path / "U"
    _note(folder / "v-2024-budget", "plan.txt", "budget")
    _note(folder, ".tmp-draft.txt", "draft")
    _note(folder, "v-notes.txt", "notes")
    good = _note(tmp_path / "docs", "good.txt", "Good note\n\nA good sentence.")
    with pytest.raises(NotAnIndex, match="not empty and is not a docqa index"):
        IndexBuilder(folder, progress=False, embedder=embedder)([good])
    assert sorted(p.name for p in folder.rglob("*")) == [".tmp-draft.txt", "plan.txt", "v-2024-budget", "v-notes.txt"]


def test_stale_cleanup_deletes_only_docqa_names(seed_index_copy, tmp_path, embedder):
    mine = [_note(seed_index_copy / "v-2024-budget", "plan.txt", "x").parent,
            _note(seed_index_copy, ".tmp-draft.txt", "x"), _note(seed_index_copy, "v-notes.txt", "x")]
    old = current_version(seed_index_copy)
    IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([_note(tmp_path / "d", "n.txt", "N\n\nNew text.")])
    assert all(path.exists() for path in mine)
    assert not old.exists() and current_version(seed_index_copy) != old


def test_prune_keeps_a_file_whose_name_holds_a_hash(tmp_path, seed_index_copy, embedder):
    outside = _note(tmp_path / "elsewhere", "notes#1.txt", "Hash note\n\nA file whose name has a hash sign.")
    pruned_folder = tmp_path / "pruned"
    _note(pruned_folder, "kept.txt", "Kept\n\nThis file stays.")
    IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([outside, pruned_folder])
    report = IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([pruned_folder], prune=True)
    assert report.removed_documents == 0 and "notes#1.txt" in _sources(seed_index_copy)


def _live(index_dir):
    return current_version(index_dir)


def _rewrite_manifest(index_dir, change):
    path = _live(index_dir) / "manifest.json"
    path.write_bytes(change(path.read_bytes()))


def _built_before_file_checksums(index_dir):
    """The manifest as docqa wrote it before it recorded every file: the checks behind the checksums."""
    path = _live(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["checksums"] = {"dense.faiss": manifest["checksums"]["dense.faiss"]}
    del manifest["sizes"]
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage, expected", [
    (lambda ix: (_live(ix) / "dense.faiss").write_bytes((_live(ix) / "dense.faiss").read_bytes()[:1000]), "dense.faiss does not match its checksum"),
    (lambda ix: (_live(ix) / "passages.sqlite").unlink(), "lacks passages.sqlite"),
    (lambda ix: (_live(ix) / "passages.sqlite").write_bytes(b"garbage" * 500), "passages.sqlite does not match its checksum"),
    (lambda ix: (_built_before_file_checksums(ix), (_live(ix) / "passages.sqlite").write_bytes(b"garbage" * 500)),
     "passages.sqlite is damaged"),
    (lambda ix: _rewrite_manifest(ix, lambda _: b"[]"), "holds no manifest"),
    (lambda ix: _rewrite_manifest(ix, lambda _: b"{}"), "holds no manifest"),
    (lambda ix: _rewrite_manifest(ix, lambda _: b"\xff\xfe\x00garbage"), "is not valid JSON"),
    (lambda ix: shutil.rmtree(_live(ix) / "bm25"), "lacks bm25"),
    (lambda ix: sqlite3.connect(_live(ix) / "passages.sqlite").executescript("DELETE FROM passages WHERE row > 3"),
     "passages.sqlite does not match its checksum"),
    (lambda ix: (_built_before_file_checksums(ix),
                 sqlite3.connect(_live(ix) / "passages.sqlite").executescript("DELETE FROM passages WHERE row > 3")),
     "passages.sqlite holds 4 passages"),
])
def test_damaged_index_files_give_one_line_errors_naming_file_and_fix(seed_index_copy, damage, expected, capsys):
    damage(seed_index_copy)
    assert cli(["ask", "When was SenseTime founded?", "--index", str(seed_index_copy)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert expected in err and ("--rebuild" in err or "--repair" in err)


def _swap_dense(index_dir, vectors, keep_checksum=False):
    """Replace dense.faiss and record its checksum, as a tool that edits files consistently would."""
    version = _live(index_dir)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss.write_index(flat, str(version / "dense.faiss"))
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["checksums"]["dense.faiss"] = file_digest(version / "dense.faiss")
    manifest["sizes"]["dense.faiss"] = (version / "dense.faiss").stat().st_size
    (version / "manifest.json").write_text(json.dumps(manifest))


def test_wrong_dimension_and_wrong_row_count_are_refused_not_served(seed_index_copy):
    rows = IndexStore.open(seed_index_copy).count_passages()
    _swap_dense(seed_index_copy, np.ones((rows, 8), dtype=np.float32))
    with pytest.raises(IndexCorrupt, match="holds 8-dimensional vectors"):
        IndexStore.open(seed_index_copy)
    _swap_dense(seed_index_copy, np.ones((rows - 2, 384), dtype=np.float32))
    with pytest.raises(IndexCorrupt, match=f"holds {rows - 2} vectors for {rows} passages"):
        IndexStore.open(seed_index_copy)


def test_garbage_embedding_cache_is_moved_aside_and_rebuilt(seed_index_copy, tmp_path, embedder, caplog):
    (seed_index_copy / "embeddings.sqlite").write_bytes(b"not a database" * 100)
    note = _note(tmp_path / "d", "n.txt", "Cache note\n\nThe cache was damaged.")
    report = IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([note])
    assert report.added_documents == 1 and "the embedding cache is damaged" in caplog.text
    assert list(seed_index_copy.glob("embeddings.sqlite.damaged-*"))
    assert _cached_vectors(seed_index_copy) == IndexStore.open(seed_index_copy).count_passages()


def test_full_disk_leaves_the_live_version_and_says_so(seed_index_copy, tmp_path, embedder, monkeypatch, capsys):
    live = _live(seed_index_copy)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(index.dense.DenseIndex, "save", no_space)
    note = _note(tmp_path / "d", "n.txt", "Disk note\n\nThe disk was full.")
    with pytest.raises(DiskFull, match="the live index is unchanged"):
        IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([note])
    assert _live(seed_index_copy) == live and not list(seed_index_copy.glob(".tmp-*"))
    assert cli(["index", str(note), "--index", str(seed_index_copy), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: no space left on the disk")


def test_open_retries_once_when_a_build_swaps_versions(seed_index_copy, tmp_path, embedder, monkeypatch):
    real_read = index.store.Manifest.read
    note = _note(tmp_path / "d", "n.txt", "Swap note\n\nWritten while another process opened the index.")
    swapped = []

    def read_during_a_swap(path):
        if not swapped:
            swapped.append(path.parent)
            # A build finishes right now, deleting the version this open is reading.
            IndexBuilder(seed_index_copy, progress=False, embedder=embedder)([note])
        return real_read(path)

    monkeypatch.setattr(index.store.Manifest, "read", staticmethod(read_during_a_swap))
    store = IndexStore.open(seed_index_copy)
    assert not swapped[0].exists() and store.version != swapped[0] and store.count_documents() == 6


def test_closed_store_releases_its_files(seed_index_copy, embedder):
    qa = QA(IndexStore.open(seed_index_copy), embedder)
    qa.close()
    assert qa.store.dense is None and qa.store.lexical is None


def _flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _one_line_error(capsys):
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_linked_embedding_cache_is_refused_and_the_foreign_database_left_alone(seed_index_copy, tmp_path, capsys):
    foreign = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign).executescript("CREATE TABLE accounts (name TEXT); INSERT INTO accounts VALUES ('alice');")
    before = foreign.read_bytes()
    (seed_index_copy / "embeddings.sqlite").unlink()
    (seed_index_copy / "embeddings.sqlite").symlink_to(foreign)
    note = _note(tmp_path / "notes", "new.txt", "New note\n\nThe gamma sensor was installed on Friday.")
    assert cli(["index", str(note), "--index", str(seed_index_copy), "--quiet"]) == 2
    err = _one_line_error(capsys)
    assert "embeddings.sqlite is a symbolic link" in err
    assert foreign.read_bytes() == before


def test_a_linked_file_inside_a_version_is_refused_on_open(seed_index_copy, tmp_path, capsys):
    passages = _live(seed_index_copy) / "passages.sqlite"
    elsewhere = tmp_path / "elsewhere.sqlite"
    shutil.copy(passages, elsewhere)
    passages.unlink()
    passages.symlink_to(elsewhere)
    assert cli(["ask", "When was SenseTime founded?", "--index", str(seed_index_copy)]) == 2
    assert "passages.sqlite is a symbolic link" in _one_line_error(capsys)


@pytest.mark.parametrize("damage", [
    lambda path: path.write_bytes(b""), _flip_middle_byte])
@pytest.mark.parametrize("name", [
    "sentences.npy", "sentence_counts.npy", "passages.sqlite", "bm25/data.csc.index.npy", "bm25/indices.csc.index.npy"])
def test_an_emptied_or_flipped_index_file_is_refused_on_open_naming_it_and_the_repair(seed_index_copy, capsys, name, damage):
    damage(_live(seed_index_copy) / name)
    assert cli(["ask", "When was SenseTime founded?", "--index", str(seed_index_copy)]) == 2
    err = _one_line_error(capsys)
    assert f"{name} does not match its checksum" in err and "qa index --repair" in err


def test_qa_check_reads_every_file_and_names_each_damaged_one(seed_index_copy, monkeypatch, capsys):
    assert cli(["check", "--index", str(seed_index_copy)]) == 0
    assert "every file matches its checksum" in capsys.readouterr().out
    _flip_middle_byte(_live(seed_index_copy) / "sentences.npy")
    _flip_middle_byte(_live(seed_index_copy) / "bm25/data.csc.index.npy")
    monkeypatch.setattr(index.store, "SMALL_FILE_BYTES", 0)   # as if both were too big to hash on open
    IndexStore.open(seed_index_copy).close()
    assert cli(["check", "--index", str(seed_index_copy)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all("does not match its checksum" in line and "qa index --repair" in line for line in lines)
    assert "bm25/data.csc.index.npy" in lines[0] and "sentences.npy" in lines[1]
