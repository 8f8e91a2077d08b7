"""BM25 over passage texts (index/lexical.py): stemming, stop words, unknown words, rows kept
aligned for empty texts, and a saved index answers as the built one does."""
from index.lexical import LexicalIndex, tokenize

PASSAGES = [
    "The survey counted 412 nesting pairs on the salt marsh.",
    "",
    "Observers walked fixed transects every Tuesday and logged each nest.",
    "The ferry timetable changes in March; the MV Tern enters service on 28 March.",
]


def test_tokens_are_stemmed_lowercased_and_without_stop_words():
    assert tokenize(["The Nests of the Counting"]) == [["nest", "count"]]


def test_the_best_matching_row_comes_first_and_stems_match():
    index = LexicalIndex.build(PASSAGES)
    (hits,) = index.search(["How many nests were counted?"], k=4)
    assert [row for row, _ in hits][:2] == [0, 2] and all(score > 0 for _, score in hits)
    assert hits[0][1] > hits[1][1]


def test_queries_without_known_words_or_with_k_zero_find_nothing():
    index = LexicalIndex.build(PASSAGES)
    assert index.search(["the and of", "zygomorphic quasar", "ferry"], k=3)[:2] == [[], []]
    assert index.search(["ferry"], k=0) == [[]]
    assert [row for row, _ in index.search(["ferry"], k=10)[0]] == [3], "k past the corpus size is fine"


def test_an_empty_corpus_can_be_built_and_searched():
    assert LexicalIndex.build([]).search(["anything"], k=5) == [[]]


def test_a_saved_index_loads_and_answers_alike(tmp_path):
    built = LexicalIndex.build(PASSAGES)
    built.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25")
    queries = ["nesting pairs", "MV Tern service", "transects Tuesday"]
    assert loaded.search(queries, k=3) == built.search(queries, k=3)
    assert loaded.vocabulary == built.vocabulary
