"""Ingest on Ray Data (index/ray_ingest.py): refused for a folder index before Ray starts; on a
local Ray, the bundled corpus lands in Qdrant's local mode as a one-process build would."""
import pytest

from index.builder import IndexBuilder, make_builder
from index.stores import open_store
from support import WIKI_SEED

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_a_folder_index_is_refused_in_one_line_before_ray_starts(tmp_path, embedder, seed_corpus_copy):
    from index.ray_ingest import ray_index

    with pytest.raises(ValueError, match=r"^--ray writes to a vector database: pass --index qdrant://") as refused:
        ray_index(IndexBuilder(tmp_path / "index", progress=False, embedder=embedder), [seed_corpus_copy])
    assert "\n" not in str(refused.value)


@pytest.mark.slow   # starts Ray on this machine and builds through it
def test_the_bundled_corpus_built_on_ray_matches_the_one_process_build(tmp_path, embedder, seed_corpus_copy):
    pytest.importorskip("ray", reason="Ray ingest needs the scale extra: pip install -e '.[scale]'")
    from index.ray_ingest import ray_index

    location = f"qdrant+local:{tmp_path / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        report = ray_index(builder, [seed_corpus_copy], workers=1)
    assert (report.documents, report.passages) == (5, 24)
    store = open_store(location)
    try:
        question = "When was SenseTime founded?"
        (ranking,) = store.search([question], embedder([question]), 1, "hybrid", (3.0, 1.0))
        assert store.labels([ranking[0][0]])[ranking[0][0]][1] == WIKI_SEED
    finally:
        store.close()
