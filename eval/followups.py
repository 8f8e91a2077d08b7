"""Follow-ups measured: the question set's questions asked as a follow-up would ask them.

Each answerable question whose subject is a name ("What position does *Dagny Taggart* hold at
Taggart Transcontinental?") becomes a conversation: "What is Dagny Taggart?", then the question
with the name replaced by "it" ("its" before 's). The table compares, on one split and one mode,
Success@5 and the answer sentence holding an accepted answer for the question as written, for
the follow-up alone, and for the follow-up with its history (``qa.followup`` puts the subject
back); and how many rewrites give back the question as written, word for word.

    python -m eval.followups --split dev
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from eval import BENCH
from eval.matching import answer_in
from eval.questions import SPLITS, Question, load_questions, open_questions_index, question_qrels
from qa.api import QA
from qa.followup import rewrite, subject_of
from qa.retriever import DEFAULT_MODE, MODES
from qa.span import parse


@dataclass(frozen=True)
class FollowUpCase:
    """A question as written, and as a follow-up to "What is SUBJECT?"."""

    question: Question
    subject: str
    follow_up: str

    @property
    def history(self) -> tuple[str, ...]:
        return (f"What is {self.subject}?",)


@dataclass(frozen=True)
class Scores:
    success_at_5: float
    answer_holds: float


@dataclass(frozen=True)
class FollowUpReport:
    split: str
    mode: str
    cases: int
    as_written: Scores
    follow_up_alone: Scores
    follow_up_with_history: Scores
    recovered_exactly: int
    rewrite_ms: float          # per follow-up, the last turn already parsed (as in a conversation)


def follow_up_case(question: Question) -> FollowUpCase | None:
    """``question`` as a follow-up, or None where its subject is no name it holds once.

    >>> q = Question("x", "dev", "When was SenseTime founded?", ("2014",), "s", "e", "date", False)
    >>> follow_up_case(q).follow_up, follow_up_case(q).history
    ('When was it founded?', ('What is SenseTime?',))
    """
    subject = subject_of(question.question)
    pattern = re.compile(rf"(?<!\w){re.escape(subject)}(?!\w)('s\b|’s\b)?")
    if not subject or len(pattern.findall(question.question)) != 1:
        return None
    found = pattern.search(question.question)
    words = parse(question.question).char_span(found.start(), found.start() + len(subject), alignment_mode="expand")
    if words is None or not any(t.pos_ == "PROPN" for t in words) or any(t.pos_ in ("VERB", "AUX") for t in words):
        return None   # a name, and only a noun phrase: "How long did the Apollo 8 ... burn" is none
    follow_up = pattern.sub(lambda m: "its" if m.group(1) else "it", question.question, count=1)
    if follow_up.startswith(("it", "its")):
        follow_up = follow_up[0].upper() + follow_up[1:]
    return FollowUpCase(question, subject, follow_up)


def follow_up_cases(split: str) -> list[FollowUpCase]:
    """The split's answerable questions that make a follow-up case."""
    return [case for case in map(follow_up_case, (q for q in load_questions(split) if q.answerable)) if case]


def run_followup_eval(split: str = "dev", index_dir: Path | None = None, bench: Path = BENCH,
                      mode: str = DEFAULT_MODE, progress: bool = False, embedder=None) -> FollowUpReport:
    """Ask each case three ways over the question set's index (built or updated first, as
    ``python -m eval questions`` does; ``embedder`` reuses a loaded model)."""
    cases = follow_up_cases(split)
    with open_questions_index(index_dir, bench, progress=progress, embedder=embedder) as qa:
        relevant = question_qrels([case.question for case in cases], qa.store)
        as_written = _scores(qa, [(c, c.question.question, ()) for c in cases], relevant, mode)
        alone = _scores(qa, [(c, c.follow_up, ()) for c in cases], relevant, mode)
        with_history = _scores(qa, [(c, c.follow_up, c.history) for c in cases], relevant, mode)
    recovered = sum(rewrite(c.follow_up, c.history).searched == c.question.question for c in cases)
    return FollowUpReport(split, mode, len(cases), as_written, alone, with_history, recovered, _rewrite_ms(cases))


def _rewrite_ms(cases: list[FollowUpCase]) -> float:
    """The time a rewrite takes when the conversation's last turn was parsed when it was asked."""
    parse.cache_clear()
    for case in cases:
        parse(case.history[-1])
    started = time.perf_counter()
    for case in cases:
        rewrite(case.follow_up, case.history)
    return (time.perf_counter() - started) * 1000 / max(1, len(cases))


def _scores(qa: QA, asked: list[tuple[FollowUpCase, str, tuple[str, ...]]], relevant: dict, mode: str) -> Scores:
    found = holds = 0
    for case, question, history in asked:
        answer = qa.ask(question, k=5, mode=mode, history=history)
        found += any(hit.passage.passage_id in relevant[case.question.qid] for hit in answer.hits[:5])
        holds += answer.answered and any(answer_in(answer.answer, a) for a in case.question.answers)
    return Scores(found / len(asked), holds / len(asked)) if asked else Scores(0.0, 0.0)


def format_report(report: FollowUpReport) -> str:
    rows = [("as written", report.as_written), ("follow-up alone", report.follow_up_alone),
            ("follow-up with history", report.follow_up_with_history)]
    lines = [f"Follow-ups: questions {report.split}, {report.cases} questions with a named subject, {report.mode}",
             "", "| asked | Success@5 | answer sentence holds an answer |", "| --- | --- | --- |"]
    lines += [f"| {name} | {s.success_at_5:.3f} | {s.answer_holds:.3f} |" for name, s in rows]
    lines += ["", f"rewrites that give back the question as written: {report.recovered_exactly} of {report.cases}",
              f"rewrite: {report.rewrite_ms:.1f} ms per follow-up (the last turn already parsed)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.followups", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--mode", choices=MODES, default=DEFAULT_MODE)
    parser.add_argument("--index", default=None, help="an index built from the bench corpora (default: the eval's own)")
    parser.add_argument("--bench", type=Path, default=BENCH)
    args = parser.parse_args(argv)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        print(format_report(run_followup_eval(args.split, args.index, args.bench, args.mode, progress=True)))
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
