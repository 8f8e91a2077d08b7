"""``python -m eval`` (eval/__main__.py): its commands, and a one-line error with exit status 2.
The seeds command end to end: tests/eval/test_seeds.py."""
import pytest

from eval.__main__ import main


def test_a_missing_index_is_a_one_line_error_with_status_2(tmp_path, capsys):
    assert main(["seeds", "--index", str(tmp_path / "missing"), "--quiet", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no docqa index at") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_beir_folder_that_is_not_a_dataset_is_a_one_line_error(tmp_path, capsys):
    assert main(["beir", str(tmp_path), "--quiet", "--index", str(tmp_path / "index"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_unknown_commands_and_modes_are_refused_by_the_parser(capsys):
    for argv in (["nonsense"], ["seeds", "--modes", "fuzzy"], []):
        with pytest.raises(SystemExit) as refused:
            main(argv)
        assert refused.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_passage_size_out_of_range_is_a_one_line_error_before_any_build(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["questions", "--split", "dev", "--max-tokens", "4", "--quiet", "--out", str(out)]) == 2
    assert main(["beir", str(tmp_path), "--overlap", "99", "--quiet", "--out", str(out)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "error: max_tokens must be from 8 to 512 (qa index --max-tokens), not 4"
    assert lines[1].startswith("error: overlap must be from 0 to 8 sentences")
    assert not out.exists()
