"""QA stage: ask questions, get cited passages and an answer sentence.

    from qa import ask, QA
    ans = ask("When was SenseTime founded?", k=5)
    ans.hits[0].citation.source, ans.answer
"""
from qa.api import QA, IndexStats, ask, default_index_dir
from qa.retriever import MODES, QuestionError, Retriever
from qa.types import Answer, Citation, Hit

__all__ = ["QA", "Answer", "Citation", "Hit", "IndexStats", "MODES", "QuestionError", "Retriever", "ask", "default_index_dir"]
