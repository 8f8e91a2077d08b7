"""``index.folder_writer``: the folder store's writer holds the folder's lock for a build, writes one
complete version at commit, and reads an older format's documents again."""
from __future__ import annotations

import json
import sqlite3

import pytest

from index.builder import make_builder
from index.contracts import DocumentState
from index.folder_writer import FolderWriter
from index.store import FORMAT_VERSION, BuildInProgress, DiskFull, IndexStore, current_version
from support import WIKI_SEED


def test_a_second_session_is_refused_while_one_holds_the_folder(tmp_path):
    first, second = FolderWriter(tmp_path / "index"), FolderWriter(tmp_path / "index")
    with first.session():
        with pytest.raises(BuildInProgress, match="another build is writing .*; wait for it to finish"):
            with second.session():
                pass
    with second.session():
        assert second.indexed() == {}, "the lock is free once the first session ends"


def test_commit_writes_a_new_version_holding_every_document_kept_and_written(seed_corpus_copy, tmp_path, embedder):
    index = tmp_path / "index"
    changed = seed_corpus_copy / WIKI_SEED
    with make_builder(index, progress=False, embedder=embedder) as builder:
        builder([seed_corpus_copy])
        before = current_version(index)
        changed.write_text(changed.read_text().replace(
            "==References==", "In 2031 SenseTime opened a research laboratory on the Moon.\n\n==References=="))
        report = builder([seed_corpus_copy])
    assert (report.changed_documents, report.added_documents, report.written) == (1, 0, True)
    after = current_version(index)
    assert after != before, "a new version, not the old one changed in place"
    manifest = json.loads((after / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION and len(manifest["documents"]) == 5
    assert len(manifest["files"]) == 5 and manifest["passages"] == report.passages
    store = IndexStore.open(index)
    try:
        assert store.version == after and store.count_documents() == 5 and store.count_passages() == report.passages
    finally:
        store.close()
    writer = FolderWriter(index)
    with writer.session():
        indexed = writer.indexed()
        assert {d.state for d in indexed.values()} == {DocumentState.COMPLETE}
        assert sorted(d.file_digest for d in indexed.values()) == sorted(manifest["files"].values())
        assert writer.count_passages() == report.passages and writer.up_to_date(manifest["files"], ())
        assert not writer.up_to_date(manifest["files"], (next(iter(indexed)),)), "a removal is a change"


def test_a_version_of_an_older_format_gives_documents_to_read_again(seed_index_copy):
    version = current_version(seed_index_copy)
    manifest = json.loads((version / "manifest.json").read_text())
    (version / "manifest.json").write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION - 1}))
    writer = FolderWriter(seed_index_copy)
    with writer.session():
        indexed = writer.indexed()
    assert len(indexed) == 5
    assert {(d.state, d.file_digest) for d in indexed.values()} == {(DocumentState.WRITING, "")}
    assert all(d.content_hash == manifest["documents"][key] for key, d in indexed.items())


def test_a_full_disk_during_a_session_says_the_live_index_is_unchanged(seed_index_copy):
    live = current_version(seed_index_copy)
    writer = FolderWriter(seed_index_copy)
    with pytest.raises(DiskFull, match="no space left on the disk of .*the live index is unchanged"):
        with writer.session():
            raise sqlite3.OperationalError("database or disk is full")   # as the embedding cache's commit raises it
    assert current_version(seed_index_copy) == live


def test_a_rebuild_starts_from_no_version_and_kept_vectors_are_reusable(seed_index_copy):
    import numpy as np

    writer = FolderWriter(seed_index_copy, rebuild=True)
    try:
        with writer.session():
            assert writer.indexed() == {} and writer.carried({"anything"}) == []
            vectors = np.eye(2, 384, dtype=np.float32)
            writer.keep(["k1", "k2"], vectors, [vectors[:1], vectors[1:]], "torch-fp32")
            reused = writer.reusable(["k1", "k2", "k3"], [])
        assert sorted(reused) == ["k1", "k2"] and np.array_equal(reused["k2"].vector, vectors[1])
        assert reused["k1"].sentences.shape == (1, 384) and reused["k1"].backend == "torch-fp32"
    finally:
        writer.close()
