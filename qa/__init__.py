"""QA stage: ask questions, get cited passages and an answer sentence.

    from qa import ask, QA
    ans = ask("When was SenseTime founded?", k=5)
    ans.hits[0].citation.source, ans.answer

Names load on first use, so ``qa``'s command line starts (and can be interrupted) before the
model and index libraries are imported.
"""
from ingest.lazy import lazy_exports

_EXPORTS = {
    "QA": "qa.api", "IndexStats": "qa.api", "ask": "qa.api", "default_qa": "qa.api", "default_index_dir": "qa.api",
    "MODES": "qa.retriever", "QuestionError": "qa.retriever", "Retriever": "qa.retriever",
    "Answer": "qa.types", "Citation": "qa.types", "Hit": "qa.types",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports('qa', _EXPORTS, globals())
