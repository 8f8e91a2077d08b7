"""Follow-ups on the question set: the cases it makes, and (slow) what the history gives back."""
import pytest

from eval.followups import follow_up_cases, format_report, run_followup_eval
from qa.followup import rewrite
from support import bench_path


def test_the_question_set_makes_follow_ups_whose_rewrite_gives_back_the_question():
    cases = follow_up_cases("dev")
    assert len(cases) >= 40
    assert all(case.subject not in case.follow_up and ("it" in case.follow_up.lower()) for case in cases)
    recovered = [case for case in cases if rewrite(case.follow_up, case.history).searched == case.question.question]
    assert len(recovered) >= 0.9 * len(cases), [c.follow_up for c in cases if c not in recovered]
    assert all(rewrite(case.follow_up).searched == case.follow_up for case in cases), "no history, no rewrite"


@pytest.mark.slow   # builds or opens the question set's index over two bench corpora
def test_with_its_history_a_follow_up_retrieves_as_the_question_as_written_does(embedder):
    bench_path("wikitext"), bench_path("news_frontmatter")
    report = run_followup_eval("dev", embedder=embedder)
    assert report.cases >= 40 and "follow-up with history" in format_report(report)
    assert report.follow_up_with_history.success_at_5 >= report.as_written.success_at_5 - 0.05
    assert report.follow_up_with_history.success_at_5 >= report.follow_up_alone.success_at_5 + 0.15
    assert report.follow_up_with_history.answer_holds > report.follow_up_alone.answer_holds
