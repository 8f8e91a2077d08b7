"""The split question set: its claims about itself hold on the real documents, its pieces work on
a small real index, and (slow) the test split stays within its gates."""
import collections

import pytest

from eval.matching import answer_in, content_stems, evidence_spans
from eval.questions import CORPORA, KINDS, load_questions, question_qrels, run_question_eval
from eval.runner import compare_modes, passage_ranker
from index import IndexStore
from index.builder import IndexBuilder
from ingest.sentences import split_sentences
from qa import QA
from support import bench_path

# Measured on the test split after the weights were chosen on the dev splits (docs/benchmarks.md,
# "Retrieval quality" and "Answers"): 33, 48 and 44 of the 140 answerable questions had no relevant
# passage in the top 5 (hybrid was 45 before the best-sentence step); 79 answer sentences (hybrid)
# held no accepted answer (73 in the release before: the step puts more near-miss sentences into the
# top five) and 98 short answers matched none exactly. Each gate allows about 2% more. The issue #20
# sentence scorer's one test run (docs/benchmarks.md): 81 answer misses (it gained on dev, lost two
# here) and 97 short-answer misses, within the same gates; retrieval misses unchanged.
MAX_MISSES_AT_5 = {"hybrid": 36, "dense": 50, "bm25": 46}
MAX_ANSWER_MISSES = 82
MAX_SHORT_ANSWER_MISSES = 99


def test_the_set_is_large_split_by_document_and_mixed():
    questions = load_questions()
    answerable = [q for q in questions if q.answerable]
    assert len(questions) >= 200 and len({q.qid for q in questions}) == len(questions)
    assert len(questions) - len(answerable) >= 20
    assert sum(q.paraphrase for q in answerable) / len(answerable) >= 0.4
    assert {q.kind for q in answerable} == set(KINDS)
    for split in ("dev", "test"):
        chosen = load_questions(split)
        assert any(q.answerable for q in chosen) and not all(q.answerable for q in chosen)
    splits_of_document = collections.defaultdict(set)
    for question in answerable:
        splits_of_document[question.source].add(question.split)
    assert all(len(splits) == 1 for splits in splits_of_document.values()), "no document feeds both splits"
    assert all(not q.source and not q.evidence for q in questions if not q.answerable)


@pytest.mark.slow
def test_every_question_is_grounded_in_its_gold_document_and_labelled_truthfully(load_bench):
    documents = {d.source: d for corpus in CORPORA for d in load_bench(corpus)[0]}
    sentences_of = {}
    for question in (q for q in load_questions() if q.answerable):
        text = documents[question.source].text
        spans = evidence_spans(text, question.evidence)
        assert spans, question.qid
        assert any(answer_in(question.evidence, answer) for answer in question.answers), question.qid
        start, end = spans[0]
        if question.source not in sentences_of:
            sentences_of[question.source] = split_sentences(text)
        sentences = " ".join(text[s.start:s.end] for s in sentences_of[question.source] if s.start < end and s.end > start)
        shared = content_stems(question.question) & content_stems(sentences)
        assert question.paraphrase == (not shared), (question.qid, sorted(shared))
        if question.kind in ("infobox-only", "front-matter-only"):
            # The infobox, or the title taken from the front matter, is the first paragraph.
            body = text[text.index("\n\n"):]
            assert not any(answer_in(body, answer) for answer in question.answers), question.qid


def test_questions_judge_and_rank_on_a_small_real_index(tmp_path, embedder):
    chosen = [q for q in load_questions("test") if q.answerable and q.source.endswith(".md")][:8]
    posts = bench_path("news_frontmatter", "18f_posts")
    distractors = sorted(p for p in posts.iterdir() if p.suffix == ".md")[::40]
    IndexBuilder(tmp_path / "ix", progress=False, embedder=embedder)(
        [posts / q.source for q in chosen] + distractors)
    qa = QA(IndexStore.open(tmp_path / "ix"), embedder)
    qrels = question_qrels(chosen, qa.store)
    assert set(qrels) == {q.qid for q in chosen} and all(qrels.values())
    assert sum(len(relevant) for relevant in qrels.values()) < qa.store.count_passages() / 4
    report = compare_modes("small", passage_ranker(qa), {q.qid: q.question for q in chosen}, qrels,
                           ("hybrid", "bm25"), depth=10, candidates=[pid for pid, _ in qa.store.row_labels()])
    for result in report.results:
        assert result.metrics["Success@10"] >= 0.75 > report.floor["Success@10"] + 0.25, result


def test_a_question_whose_evidence_is_missing_is_a_clear_error(seed_index):
    question = next(q for q in load_questions("test") if q.answerable)
    with pytest.raises(ValueError, match=f"{question.qid}: .* holds no document"):
        question_qrels([question], IndexStore.open(seed_index))


@pytest.mark.slow
def test_test_split_misses_stay_within_the_gates(embedder):
    bench_path("wikitext"), bench_path("news_frontmatter")
    report = run_question_eval("test", progress=False, answer_modes=("hybrid",), embedder=embedder)
    assert report.queries == sum(q.answerable for q in load_questions("test"))
    for result in report.results:
        misses = sum(row["Success@5"] == 0 for row in result.per_query.values())
        assert misses <= MAX_MISSES_AT_5[result.mode], (result.mode, misses)
        assert result.metrics["Success@5"] > report.floor["Success@5"] + 0.5
    accuracy = report.extra["answer accuracy (hybrid, k=5)"]
    assert round((1 - accuracy) * report.queries) <= MAX_ANSWER_MISSES, accuracy
    exact = report.extra["short answer exact (hybrid)"]
    assert round((1 - exact) * report.queries) <= MAX_SHORT_ANSWER_MISSES, exact
