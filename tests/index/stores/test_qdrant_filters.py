"""A scope on Qdrant (local mode): the payload filter keeps every ranking inside the allowed documents,
and the engine ranks a scoped question as the folder store does."""
import pytest

pytest.importorskip("qdrant_client", reason="the scale extra: pip install -e '.[scale]'")

from index.scope import Scope  # noqa: E402
from index.store import IndexStore  # noqa: E402
from index.builder import make_builder  # noqa: E402
from index.stores import open_store  # noqa: E402
from qa.api import QA  # noqa: E402
from qa.retriever import MODES  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
QUESTION = "How many nesting pairs did the survey count?"


@pytest.fixture(scope="module")
def engine_qa(tmp_path_factory, scoped_corpus, embedder):
    location = f"qdrant+local:{tmp_path_factory.mktemp('qdrant-scope') / 'store'}"
    with make_builder(location, progress=False, embedder=embedder) as builder:
        builder([scoped_corpus])
    qa = QA(open_store(location), embedder)
    yield qa
    qa.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", [["path=notes/"], ["format=pdf"], ["tag=birds"], ["date<2020"],
                                   ["format=frontmatter", "category=news"], ["path!=reports/"]])
def test_every_engine_hit_satisfies_the_scope_and_matches_the_folder_store(engine_qa, scoped_index, embedder,
                                                                          mode, where):
    scope = Scope.parse(where)
    documents = {d.doc_id: d for d in engine_qa.store.scoped_documents()}
    hits = engine_qa.retrieve(QUESTION, k=10, mode=mode, where=scope)
    assert hits or mode == "bm25"
    assert all(scope.allows(documents[hit.citation.doc_id]) for hit in hits)
    folder = QA(IndexStore.open(scoped_index), embedder)
    try:
        theirs = folder.retrieve(QUESTION, k=10, mode=mode, where=scope)
    finally:
        folder.close()
    assert [h.citation.source for h in hits[:3]] == [h.citation.source for h in theirs[:3]]


def test_the_engine_answers_from_inside_the_scope(engine_qa):
    assert engine_qa.ask(QUESTION, where="path=notes/").short == "42"
    assert engine_qa.ask(QUESTION, where=["format=pdf"]).short == "412"
    assert engine_qa.retrieve(QUESTION, where="format=docx") == []
    kestrel = next(d for d in engine_qa.store.documents() if d.path.endswith("kestrel.md"))
    assert ("tags", "python") in {(f.name, f.value) for f in kestrel.fields}
