"""Evaluate retrieval on a BEIR-format dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from index.backends import AUTO
from index.embedder import DEFAULT_MODEL, Embedder, docqa_cache, model_slug
from index.fusion import RRF_K
from index.store import IndexMismatch, IndexStore
from index.builder import make_builder
from ingest.chunker import Chunking
from index.settings import current_settings
from index.stores import open_store
from ingest.types import Document
from qa.retriever import BM25_WEIGHT, DENSE_WEIGHT, MODES, Retriever
from eval.runner import EvalReport, compare_modes

# nDCG@10 reported by the BEIR paper (BM25) and the MTEB leaderboard (the two dense models).
PUBLISHED_NDCG10 = {
    "scifact": {"BM25 (Anserini)": 0.679, "all-MiniLM-L6-v2": 0.645, "bge-small-en-v1.5": 0.713},
}


@dataclass(frozen=True)
class BeirDataset:
    name: str
    folder: Path
    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


class BeirFormatError(ValueError):
    pass


def load_beir(folder: str | Path, split: str = "test") -> BeirDataset:
    # Resolved, as the loader resolves files: documents are keyed by their file's path, and the same
    # dataset reached by another spelling (../shared/... or /work/shared/...) must be the same documents.
    folder = Path(folder).resolve()
    needed = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise BeirFormatError(f"not a BEIR dataset, missing: {', '.join(missing)}")
    corpus = {}
    with open(needed[0], encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    with open(needed[1], encoding="utf-8") as handle:
        queries = {str(row["_id"]): row["text"] for row in map(json.loads, handle)}
    qrels: dict[str, dict[str, int]] = {}
    with open(needed[2], encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(str(row["query-id"]), {})[str(row["corpus-id"])] = int(row["score"])
    return BeirDataset(folder.name, folder, corpus, {q: queries[q] for q in qrels if q in queries}, qrels)


def beir_documents(dataset: BeirDataset) -> list[Document]:
    documents = []
    for doc_id, (title, text) in dataset.corpus.items():
        content_hash = hashlib.sha256(f"{title}\0{text}".encode()).hexdigest()
        documents.append(Document(
            doc_id=hashlib.sha256(f"{dataset.name}\0{doc_id}".encode()).hexdigest()[:16],
            path=str(dataset.folder / 'corpus.jsonl'), page=doc_id, source=doc_id, title=title,
            text=text or title, format="beir", content_hash=content_hash))
    return documents


# One passage per document: the model reads its first 256 word pieces, as the published numbers did.
WHOLE_DOCUMENTS = Chunking(max_tokens=512)


def default_beir_index_dir(name: str, model: str, chunking: Chunking, backend: str) -> Path:
    """One cached index per backend (each backend's vectors are scored as that backend made them)
    and per passage size; an overlap other than the default is named too (``-o0``)."""
    overlap = "" if chunking.overlap_sentences == Chunking().overlap_sentences else f"-o{chunking.overlap_sentences}"
    return docqa_cache() / "beir" / f"{name}-{model_slug(model)}-{chunking.max_tokens}{overlap}-{backend}"


def open_beir_index(dataset: BeirDataset, model: str = DEFAULT_MODEL, chunking: Chunking = WHOLE_DOCUMENTS,
                    index_dir: str | Path | None = None, progress: bool = True, backend: str = AUTO,
                    embedder: Embedder | None = None) -> tuple[IndexStore, Embedder]:
    """The dataset's index (built on first use, then updated: a no-op when nothing changed) and the
    embedder that made it; ``index_dir`` is a folder or a vector database's location (default: the
    eval's own folder). ``embedder`` reuses a loaded model of the same name instead of loading one
    for ``backend``."""
    if embedder is None or embedder.model_name != model:
        embedder = Embedder(model, backend=backend)
    own_cache = index_dir is None
    index_dir = index_dir or default_beir_index_dir(dataset.name, model, chunking, embedder.backend)
    settings = current_settings(model=model, backend=backend, chunking=chunking)
    options = dict(settings=settings, progress=progress, embedder=embedder)
    try:
        builder = make_builder(index_dir, **options)
    except IndexMismatch:
        if not own_cache:
            raise
        builder = make_builder(index_dir, rebuild=True, **options)   # an older format: the eval's own to remake
    with builder:
        builder.build(beir_documents(dataset))
    return open_store(index_dir), embedder


def document_ranker(store: IndexStore, retriever: Retriever):
    """``rank(query, mode, depth)`` over document ids: a document ranks where its best passage ranks (MaxP)."""
    passages_per_doc = max(1.0, store.count_passages() / max(1, store.count_documents()))

    def rank(query: str, mode: str, depth: int) -> list[str]:
        rows = [row for row, _ in retriever.rank_rows([query], int(depth * passages_per_doc) + 10, mode)[0]]
        labels = store.labels(rows)
        return list(dict.fromkeys(labels[row][1] for row in rows))[:depth]

    return rank


def run_beir(folder: str | Path, split: str = "test", model: str = DEFAULT_MODEL, chunking: Chunking = WHOLE_DOCUMENTS,
             modes=MODES, index_dir: str | Path | None = None, progress: bool = True,
             dense_weight: float = DENSE_WEIGHT, bm25_weight: float = BM25_WEIGHT, backend: str = AUTO,
             embedder: Embedder | None = None) -> EvalReport:
    """One passage per document by default (``WHOLE_DOCUMENTS``; the model reads its first 256
    word pieces), which is how the published dense numbers were measured. ``backend`` embeds
    passages and queries alike (``auto``: chosen by the CPU); ``embedder`` reuses a loaded model."""
    dataset = load_beir(folder, split)
    store, embedder = open_beir_index(dataset, model, chunking, index_dir, progress, backend, embedder)
    try:
        retriever = Retriever(store, embedder, dense_weight=dense_weight, bm25_weight=bm25_weight)
        settings = {"dataset": str(folder), "split": split, "model": model, "chunking": asdict(chunking),
                    "backend": embedder.backend, "precision": embedder.precision, "index": store.location,
                    "passages": store.count_passages(), "documents": store.count_documents(),
                    "fusion": {"method": "rrf", "k": RRF_K, "dense_weight": dense_weight, "bm25_weight": bm25_weight,
                               "sentence_weight": retriever.sentence_weight}}
        return compare_modes(f"BEIR {dataset.name}", document_ranker(store, retriever), dataset.queries, dataset.qrels,
                             modes, depth=100, candidates=list(dataset.corpus), success_at=(), recall_at=(100,),
                             curve_depth=100, settings=settings, progress=progress)
    finally:
        store.close()
