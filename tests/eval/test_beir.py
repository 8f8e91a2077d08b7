import json

import pytest

from eval.beir import BeirFormatError, load_beir, run_beir
from support import bench_path


def _tiny_beir(folder):
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Aspirin", "text": "Aspirin reduces the risk of heart attack in adults."},
        {"_id": "d2", "title": "Vitamin D", "text": "Vitamin D deficiency is linked to weaker bones."},
        {"_id": "d3", "title": "Sleep", "text": "Adults who sleep less than six hours show higher blood pressure."},
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus) + "\n")
    queries = [{"_id": "q1", "text": "Does aspirin prevent heart attacks?"}, {"_id": "q2", "text": "bone strength and vitamin D"},
               {"_id": "q3", "text": "unjudged query"}]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    return folder


def test_beir_runner_scores_every_mode_on_a_tiny_dataset(tmp_path, embedder):
    folder = _tiny_beir(tmp_path / "tiny")
    report = run_beir(folder, index_dir=tmp_path / "index", progress=False, embedder=embedder)
    assert report.queries == 2 and [r.mode for r in report.results] == ["hybrid", "dense", "bm25"]
    for result in report.results:
        assert result.metrics["nDCG@10"] == pytest.approx(1.0) and result.metrics["MRR@10"] == 1.0
        assert result.metrics["Recall@100"] == 1.0


def test_the_same_dataset_by_another_path_reuses_the_index(tmp_path, embedder):
    folder = _tiny_beir(tmp_path / "tiny")
    run_beir(folder, index_dir=tmp_path / "index", progress=False, modes=("bm25",), embedder=embedder)
    other_spelling = tmp_path / "elsewhere" / ".." / "tiny"
    (tmp_path / "elsewhere").mkdir()
    report = run_beir(other_spelling, index_dir=tmp_path / "index", progress=False, modes=("bm25",), embedder=embedder)
    assert report.settings["documents"] == 3


def test_missing_beir_files_are_a_clear_error(tmp_path):
    with pytest.raises(BeirFormatError, match="corpus.jsonl"):
        load_beir(tmp_path)


def test_scifact_loads_as_published():
    dataset = load_beir(bench_path("scifact"))
    assert len(dataset.corpus) == 5183 and len(dataset.queries) == 300
    assert sum(len(v) for v in dataset.qrels.values()) == 339


def test_the_passage_size_and_overlap_shape_the_index_and_the_report(tmp_path, embedder):
    from ingest.chunker import Chunking

    folder = _tiny_beir(tmp_path / "tiny")
    long_text = " ".join(f"Sentence {n} says aspirin was tested in trial {n}." for n in range(12))
    rows = (folder / "corpus.jsonl").read_text().splitlines()
    rows[0] = json.dumps({"_id": "d1", "title": "Aspirin", "text": long_text})
    (folder / "corpus.jsonl").write_text("\n".join(rows) + "\n")
    whole = run_beir(folder, index_dir=tmp_path / "whole", progress=False, modes=("bm25",), embedder=embedder)
    small = run_beir(folder, index_dir=tmp_path / "small", progress=False, modes=("bm25",), embedder=embedder,
                     chunking=Chunking(max_tokens=24, overlap_sentences=0))
    assert whole.settings["passages"] == 3 and whole.settings["chunking"]["max_tokens"] == 512
    assert small.settings["passages"] > 3
    assert small.settings["chunking"] == {"max_tokens": 24, "overlap_sentences": 0, "splitter": "sentences-v1"}
