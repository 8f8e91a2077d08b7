"""``index.stores.qdrant_writer``: a build's points and document records written in place, a
document's record saying ``writing`` until every point is in, removal, and a rebuild that drops the
collections only when it writes."""
from __future__ import annotations

import pytest

pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")

from index.builder import make_builder  # noqa: E402
from index.contracts import DocumentState  # noqa: E402
from index.embedder import resolve_model  # noqa: E402
from index.settings import current_settings  # noqa: E402
from index.stores import open_store  # noqa: E402
from index.stores.qdrant import DENSE, SPARSE, _doc_filter, point_id  # noqa: E402
from index.stores.qdrant_connection import QdrantLocation  # noqa: E402
from index.stores.qdrant_writer import QdrantWriter  # noqa: E402
from support import WIKI_SEED  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_a_build_writes_every_passage_as_a_point_and_every_document_as_complete(qdrant_store_copy):
    with QdrantWriter(QdrantLocation.parse(f"qdrant+local:{qdrant_store_copy}")) as writer:
        documents = writer.indexed()
        assert len(documents) == 5 and {d.state for d in documents.values()} == {DocumentState.COMPLETE}
        assert all(len(d.file_digest) == 64 for d in documents.values()), "unchanged files are not read again"
        points, _ = writer.client.scroll(writer.where.collection, limit=100, with_payload=True, with_vectors=True)
        assert len(points) == writer.count_passages() == 24
        assert {p.payload["doc_id"] for p in points} == {d.doc_id for d in documents.values()}
        assert all(p.id == point_id(p.payload["passage_id"]) for p in points), "a rewrite replaces, never adds"
        assert all(len(p.vector[DENSE]) == 384 and p.vector[SPARSE].indices for p in points)
        assert all(p.payload["text"] and p.payload["embed_key"] and p.payload["sentences"] for p in points)
        assert writer.average_length > 1.0, "BM25's average passage length is fixed in the manifest"


def test_removing_a_document_deletes_its_points_and_its_record(qdrant_store_copy):
    with QdrantWriter(QdrantLocation.parse(f"qdrant+local:{qdrant_store_copy}")) as writer:
        documents = writer.indexed()
        wiki = next(d for d in documents.values() if d.path.endswith(WIKI_SEED))
        in_wiki = writer.client.count(writer.where.collection, count_filter=_doc_filter([wiki.doc_id]), exact=True).count
        assert in_wiki > 0
        writer.remove([wiki])
        assert set(writer.indexed()) == set(documents) - {wiki.key}
        assert writer.client.count(writer.where.collection, count_filter=_doc_filter([wiki.doc_id]), exact=True).count == 0
        assert writer.count_passages() == 24 - in_wiki
    with open_store(f"qdrant+local:{qdrant_store_copy}") as store:
        assert store.count_documents() == 4 and WIKI_SEED not in {d.source for d in store.document_summaries()}


def test_a_build_killed_mid_write_is_finished_by_the_next(seed_corpus_copy, tmp_path, embedder, monkeypatch):
    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        upsert = builder.writer.client.upsert

        def killed_after_ten_points(collection, points, **kwargs):
            if collection == builder.writer.where.collection:
                upsert(collection, points[:10], **kwargs)   # part of a batch landed, as in a kill -9
                raise KeyboardInterrupt
            return upsert(collection, points, **kwargs)

        monkeypatch.setattr(builder.writer.client, "upsert", killed_after_ten_points)
        with pytest.raises(KeyboardInterrupt):
            builder([seed_corpus_copy])
        monkeypatch.undo()
        assert {d.state for d in builder.writer.indexed().values()} == {DocumentState.WRITING}, "none claims to be complete"
        report = builder([seed_corpus_copy])
    assert (report.documents, report.passages, report.added_documents, report.changed_documents) == (5, 24, 0, 5)
    assert (report.embedded, report.reused) == (14, 10), "the points that landed are reused, not embedded again"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        assert {d.state for d in builder.writer.indexed().values()} == {DocumentState.COMPLETE}
        assert not builder([seed_corpus_copy]).written


def test_a_rebuild_drops_the_collection_only_when_it_writes(seed_corpus_copy, tmp_path, embedder):
    from index.builder import NothingToIndex

    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        builder([seed_corpus_copy])
    other_model = resolve_model("all-MiniLM-L6-v2")
    (tmp_path / "empty").mkdir()
    with make_builder(location, current_settings(model=other_model, backend="torch-fp32"), rebuild=True,
                      progress=False) as builder:
        with pytest.raises(NothingToIndex):
            builder([tmp_path / "empty"])
    with open_store(location) as store:
        assert (store.manifest.model, store.count_documents()) == ("all-MiniLM-L6-v2", 5)
    with make_builder(location, current_settings(model=other_model, backend="torch-fp32"), rebuild=True,
                      progress=False) as builder:
        assert builder([seed_corpus_copy]).embedded == 24
    with open_store(location) as store:
        assert (store.manifest.model, store.count_documents(), store.count_passages()) == (other_model, 5, 24)
