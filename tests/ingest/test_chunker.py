from ingest import BUNDLED_CORPUS, Chunker, DocumentLoader
from ingest.sentences import split_sentences


def test_passages_fit_the_token_budget_overlap_by_one_sentence_and_index_the_document(embedder):
    chunker = Chunker(max_tokens=60, overlap_sentences=1, count_tokens=embedder.count_tokens)
    for doc in DocumentLoader()([BUNDLED_CORPUS]):
        passages = chunker(doc)
        assert passages, doc.source
        for passage in passages:
            assert passage.text == doc.text[passage.start:passage.end]
            assert embedder.count_tokens([passage.text])[0] <= 60 + 5  # joining whitespace may add a token
            assert passage.section == doc.section_at(passage.start)
        for before, after in zip(passages, passages[1:]):
            sentences = split_sentences(before.text)
            if before.section != after.section or len(sentences) < 2:
                continue  # a one-sentence passage has nothing to overlap without repeating itself
            last = before.text[sentences[-1].start:sentences[-1].end]
            if embedder.count_tokens([last])[0] <= 60:  # over-long sentences are cut into pieces instead
                assert after.text.startswith(last)


def test_wiki_passages_carry_section_and_reference_urls(embedder):
    doc = next(d for d in DocumentLoader()([BUNDLED_CORPUS]) if d.format == "wikitext")
    passages = Chunker(count_tokens=embedder.count_tokens)(doc)
    founding = next(p for p in passages if "co-founded in October 2014" in p.text)
    assert founding.section == "History > 2014"
    assert "http://fortune.com/40-under-40/xu-li-7/" in founding.urls
