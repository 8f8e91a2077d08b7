"""Embedding backends: the choice by CPU, the fallback, the cached export, and what the manifest says."""
import json
import sys

import numpy as np
import pytest

import index.backends as backends
from index.backends import BackendUnavailable, CpuFeatures, backend_for_index, choose_backend, detect_cpu
from index.backends.base import passage_embedding_text
from index.builder import IndexBuilder
from index.embedder import Embedder
from index.settings import current_settings
from index.store import current_version
from ingest import BUNDLED_CORPUS
from ingest.chunker import Chunker
from ingest.loader import DocumentLoader
from qa import QA
from qa.cli import main as cli

NO_BF16 = {"avx2", "fma", "avx512f"}
BF16 = NO_BF16 | {"avx512_bf16", "avx512_vnni"}
AMX = BF16 | {"amx_bf16", "amx_tile"}


@pytest.mark.parametrize(("flags", "openvino", "expected"), [
    (NO_BF16, False, "torch-fp32"),
    (NO_BF16, True, "openvino-fp32"),
    (BF16, False, "torch-bf16"),
    (BF16, True, "openvino-bf16"),
    (AMX, False, "torch-bf16"),
    (AMX, True, "openvino-bf16"),
    (set(), False, "torch-fp32"),   # nothing known about the CPU: the safe choice
])
def test_auto_follows_what_the_cpu_computes_natively(flags, openvino, expected):
    assert choose_backend("auto", CpuFeatures.from_flags(flags), openvino_installed=openvino) == expected


def test_shorthands_take_their_precision_from_the_cpu_and_names_are_checked():
    assert choose_backend("openvino", CpuFeatures.from_flags(NO_BF16)) == "openvino-fp32"
    assert choose_backend("torch", CpuFeatures.from_flags(AMX)) == "torch-bf16"
    assert choose_backend("torch-bf16", CpuFeatures.from_flags(NO_BF16)) == "torch-bf16"  # asked for by name
    with pytest.raises(BackendUnavailable, match="unknown embedding backend 'onnx-int4'; choose one of: auto"):
        choose_backend("onnx-int4")


@pytest.fixture(scope="module")
def fp32_embedder() -> Embedder:
    return Embedder(backend="torch-fp32")


@pytest.fixture(scope="module")
def seed_texts(fp32_embedder) -> list[str]:
    chunker = Chunker(count_tokens=fp32_embedder.count_tokens)
    return [passage_embedding_text(d.title, p.section, p.text)
            for d in DocumentLoader()([BUNDLED_CORPUS]) for p in chunker(d)]


@pytest.fixture(scope="module")
def fp32_vectors(fp32_embedder, seed_texts) -> np.ndarray:
    return fp32_embedder(seed_texts)


@pytest.fixture
def cpu_without_bf16(monkeypatch):
    monkeypatch.setenv("DOCQA_CPU_FLAGS", " ".join(sorted(NO_BF16)))
    detect_cpu.cache_clear()
    yield
    detect_cpu.cache_clear()


@pytest.mark.slow   # embeds the seed passages twice over: about 22 s
@pytest.mark.parametrize("openvino", [True, False])
def test_on_a_cpu_without_bf16_auto_embeds_in_fp32(cpu_without_bf16, monkeypatch, seed_texts, fp32_vectors, openvino):
    monkeypatch.setattr(backends, "openvino_is_installed", lambda: openvino)
    embedder = Embedder(backend="auto")   # exports go to the user's model cache, made once per machine
    vectors = embedder(seed_texts)
    assert (embedder.backend, embedder.precision) == ("openvino-fp32" if openvino else "torch-fp32", "fp32")
    cosine = np.sum(vectors * fp32_vectors, axis=1)
    assert cosine.min() > 0.99999 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


# int8 quantises the model with NNCF first (about 25 s): slow.
@pytest.mark.parametrize("backend", [pytest.param(name, marks=pytest.mark.slow) if name.endswith("int8") else name
                                     for name in sorted(backends.BACKENDS)])
def test_every_backend_agrees_with_fp32_on_real_passages(backend, seed_texts, fp32_vectors):
    # The user's model cache, as qa uses it: the int8 model is quantised once per machine, not per run
    # (making and reusing an export is tested below, in fresh folders).
    embedder = Embedder(backend=backend)
    vectors = embedder(seed_texts)
    cosine = np.sum(vectors * fp32_vectors, axis=1)
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    # int8 is opt-in because it sits further from fp32 (bench: mean 0.996); the float backends agree closely.
    mean, least, same_neighbour = (0.99, 0.97, 0.85) if backend.endswith("int8") else (0.9999, 0.9995, 0.95)
    assert cosine.mean() > mean and cosine.min() > least, (backend, cosine.mean(), cosine.min())
    # Each passage's nearest passage is the same as fp32's.
    np.fill_diagonal(similarity := vectors @ vectors.T, -1)
    np.fill_diagonal(reference := fp32_vectors @ fp32_vectors.T, -1)
    assert np.mean(similarity.argmax(1) == reference.argmax(1)) >= same_neighbour


def test_openvino_missing_is_a_one_line_error_naming_the_extra(monkeypatch, tmp_path, seed_corpus_copy, capsys):
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(BackendUnavailable, match=r"pip install 'docqa\[openvino\]'"):
        Embedder(settings=current_settings(cache_dir=tmp_path), backend="openvino-fp32")(["a question"])
    assert cli(["index", str(seed_corpus_copy), "--index", str(tmp_path / "index"), "--backend", "openvino", "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "docqa[openvino]" in error


def _manifest(index_dir) -> dict:
    return json.loads((current_version(index_dir) / "manifest.json").read_text())


def test_the_manifest_says_which_backends_made_the_vectors_and_questions_use_it(tmp_path, seed_corpus_copy):
    index_dir = tmp_path / "index"
    IndexBuilder(index_dir, current_settings(backend="torch-fp32"), progress=False)([seed_corpus_copy])
    manifest = _manifest(index_dir)
    embedding, passages = manifest["embedding"], manifest["passages"]
    assert embedding["backend"] == "torch-fp32" and embedding["precision"] == "fp32"
    assert embedding["vectors_by_backend"] == {"torch-fp32": passages} and not embedding["mixed_backends"]
    assert embedding["cpu"] == detect_cpu().level
    assert QA.open(index_dir).embedder.backend == "torch-fp32"

    (seed_corpus_copy / "new.txt").write_text("Kyoto office\n\nSenseTime opened a research office in Kyoto in 2018.\n")
    report = IndexBuilder(index_dir, current_settings(backend="torch-bf16"), progress=False)([seed_corpus_copy])
    embedding = _manifest(index_dir)["embedding"]
    assert report.embedded == 1 and report.backend == "torch-bf16"
    assert embedding["vectors_by_backend"] == {"torch-bf16": 1, "torch-fp32": passages}
    assert embedding["mixed_backends"] and embedding["backend"] == "torch-fp32"
    assert QA.open(index_dir, backend="torch-bf16").stats().query_backend == "torch-bf16"
    assert QA.open(index_dir).stats().backend == "torch-bf16 + torch-fp32"


def test_questions_fall_back_when_the_index_backend_cannot_run_well_here():
    assert backend_for_index("torch-bf16", cpu=CpuFeatures.from_flags(NO_BF16)) in {"openvino-fp32", "torch-fp32"}
    assert backend_for_index("torch-bf16", cpu=CpuFeatures.from_flags(BF16)) == "torch-bf16"
    assert backend_for_index("", cpu=CpuFeatures.from_flags(NO_BF16)) in {"openvino-fp32", "torch-fp32"}
