"""Killing ``qa index`` at random moments (eval/kill_loop.py): the batches it writes, and one short
loop whose every kill leaves a complete old or new index."""
import pytest

from eval.kill_loop import BATCH, _write_batch, main


def test_each_batch_is_new_documents_with_distinct_readings(tmp_path):
    _write_batch(tmp_path, 1)
    _write_batch(tmp_path, 2)
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2 * BATCH
    texts = [path.read_text() for path in files]
    assert len(set(texts)) == len(texts) and texts[0].startswith("Batch 1 report 0\n\n")


@pytest.mark.slow   # builds the bundled corpus, then kills two builds and finishes a third
def test_two_kills_leave_a_usable_index_and_the_final_build_completes(capsys):
    assert main(["--kills", "2", "--max-delay", "3"]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 kills" in out and "final build completed with every document" in out
