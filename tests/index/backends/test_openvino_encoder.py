"""The OpenVINO backend (index/backends/openvino_encoder.py): the export made once, atomically, and
reused; pooling and sequence length read from the model folder; agreement with torch."""
import json

import numpy as np
import pytest

from index.backends import BackendUnavailable
from index.backends.openvino_encoder import (COMPILED_CACHE, EXPORT_FILE, OpenVinoEncoder, _fingerprint, _pool,
                                             _sentence_transformers_settings)
from index.embedder import resolve_model


def test_pooling_and_length_come_from_the_model_folder(tmp_path):
    assert _sentence_transformers_settings(tmp_path) == ("mean", 512), "a plain transformers folder"
    assert _sentence_transformers_settings(__import__("pathlib").Path(resolve_model("all-MiniLM-L6-v2"))) == ("mean", 256)
    (tmp_path / "modules.json").write_text(json.dumps([{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    assert _sentence_transformers_settings(tmp_path) == ("cls", 128)
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_max_tokens": True}))
    with pytest.raises(BackendUnavailable, match="supports mean or CLS pooling"):
        _sentence_transformers_settings(tmp_path)


def test_mean_pooling_counts_only_real_tokens_and_cls_takes_the_first():
    hidden = np.array([[[1.0, 0.0], [3.0, 2.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    np.testing.assert_allclose(_pool(hidden, mask, "mean"), [[2.0, 1.0]])
    np.testing.assert_allclose(_pool(hidden, mask, "cls"), [[1.0, 0.0]])


def test_the_fingerprint_changes_with_the_weights_and_the_openvino_version(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    before = _fingerprint(str(tmp_path), "2024.4")
    assert _fingerprint(str(tmp_path), "2025.1") != before
    (tmp_path / "model.safetensors").write_bytes(b"other weights")
    assert _fingerprint(str(tmp_path), "2024.4") != before


@pytest.mark.slow   # exports the model to OpenVINO IR in a fresh folder: 10-25 s
def test_a_failed_export_leaves_nothing_then_one_export_is_made_and_reused(tmp_path, monkeypatch):
    import openvino

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    location = resolve_model("all-MiniLM-L6-v2")
    monkeypatch.setattr(openvino, "save_model", disk_full)
    with pytest.raises(OSError):
        OpenVinoEncoder(location, tmp_path, precision="fp32")
    assert list(tmp_path.iterdir()) == [], "a failed export leaves nothing half written"
    monkeypatch.undo()
    first = OpenVinoEncoder(location, tmp_path, precision="fp32")
    exported = first.export_dir / EXPORT_FILE
    assert first.exported_now and exported.is_file() and exported.stat().st_size > 0
    written = exported.stat().st_mtime_ns
    second = OpenVinoEncoder(location, tmp_path, precision="fp32")
    assert not second.exported_now and exported.stat().st_mtime_ns == written
    # no staging folder left behind; the compiled model's cache beside the export
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.export_dir.name, COMPILED_CACHE])
    text = ["The export and the original encode alike."]
    assert np.allclose(first(text), second(text))


def test_the_compiled_model_is_cached_so_a_second_start_skips_compiling(tmp_path):
    from index.embedder import default_model_cache

    location = resolve_model("all-MiniLM-L6-v2")
    made = OpenVinoEncoder(location, default_model_cache(), precision="fp32")   # the export this machine has
    (tmp_path / made.export_dir.name).symlink_to(made.export_dir)                # reused, not exported again
    first = OpenVinoEncoder(location, tmp_path, precision="fp32")
    assert not first.exported_now and first.model.get_property("LOADED_FROM_CACHE") is False
    assert any((tmp_path / COMPILED_CACHE).iterdir()), "the compiled model is written to the cache"
    second = OpenVinoEncoder(location, tmp_path, precision="fp32")
    assert second.model.get_property("LOADED_FROM_CACHE") is True
    text = ["The cached and the freshly compiled model encode alike."]
    np.testing.assert_array_equal(first(text), second(text))
