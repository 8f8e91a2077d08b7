"""The model's tokenizer without transformers (index/backends/fast_tokenizer.py): the same word
pieces, masks and offsets as transformers' tokenizer, on real passages of every kind."""
import subprocess
import sys

import numpy as np
import pytest
from transformers import AutoTokenizer

from index.backends.fast_tokenizer import FastTokenizer, load_tokenizer
from index.embedder import resolve_model
from ingest import BUNDLED_CORPUS
from support import REPO

# Prose, an infobox line, accents, CJK, emoji, a URL, control characters, and one text far past
# the model's 256 word pieces.
TEXTS = [path.read_text(encoding="utf-8") for path in sorted(BUNDLED_CORPUS.glob("*.txt"))] + [
    "When was SenseTime founded?", "Founded: October 2014.", "Café naïve façade — Zürich", "商汤科技 founded in 香港",
    "rocket 🚀 emoji", "see https://example.org/a?b=c#d", "tab\there\x00null\u200bzero-width", "", " ",
    "word " * 700,
]


@pytest.fixture(scope="module")
def tokenizers():
    location = resolve_model("all-MiniLM-L6-v2")
    return load_tokenizer(location), AutoTokenizer.from_pretrained(location, local_files_only=True)


def test_the_bundled_model_gets_the_tokenizer_without_transformers(tokenizers):
    ours, _ = tokenizers
    assert isinstance(ours, FastTokenizer)


@pytest.mark.parametrize("offsets", [False, True])
def test_padded_and_truncated_batches_match_transformers(tokenizers, offsets):
    ours, theirs = tokenizers
    mine = ours(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="np",
                return_offsets_mapping=offsets)
    expected = theirs(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="np",
                      return_offsets_mapping=offsets)
    assert set(mine) == set(expected)
    for name in expected:
        np.testing.assert_array_equal(mine[name], expected[name], err_msg=name)
    assert mine["input_ids"].shape[1] == 256 and mine["input_ids"].dtype == np.int64


def test_token_counts_match_transformers_without_special_tokens_or_truncation(tokenizers):
    ours, theirs = tokenizers
    mine = ours(TEXTS, add_special_tokens=False, truncation=False)["input_ids"]
    assert mine == theirs(TEXTS, add_special_tokens=False, truncation=False)["input_ids"]
    assert len(mine[-1]) == 700
    assert ours(TEXTS)["input_ids"] == theirs(TEXTS)["input_ids"]


def test_a_folder_without_tokenizer_json_falls_back_to_transformers(tmp_path):
    import shutil

    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copy(f"{resolve_model('all-MiniLM-L6-v2')}/{name}", tmp_path / name)
    fallback = load_tokenizer(str(tmp_path))
    assert not isinstance(fallback, FastTokenizer)
    assert fallback(["When was SenseTime founded?"])["input_ids"] == \
        load_tokenizer(resolve_model("all-MiniLM-L6-v2"))(["When was SenseTime founded?"])["input_ids"]


def test_loading_it_imports_neither_transformers_nor_torch():
    code = ("import sys; from index.backends.fast_tokenizer import load_tokenizer; "
            "from index.embedder import resolve_model; "
            "load_tokenizer(resolve_model('all-MiniLM-L6-v2'))(['a question'], padding=True, return_tensors='np'); "
            "print(sorted({'transformers', 'torch'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
