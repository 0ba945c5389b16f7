"""Manifests, the public dataset layouts, feature caching and text augmentation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from soundedit.errors import ConfigError
from soundedit.train.data import TrainItem, compute_item_features, detect_layout, load_items
from soundedit.train.textaug import augment_text, synonyms, text_variants


def write_wav(path, seconds: float = 0.5, rate: int = 16000, seed: int = 0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sf.write(path, (0.1 * rng.standard_normal(int(seconds * rate))).astype(np.float32), rate)
    return path


def test_csv_manifest_skips_missing_files_and_reports_them(tmp_path):
    write_wav(tmp_path / "a.wav")
    write_wav(tmp_path / "b.wav")
    (tmp_path / "frame.png").write_bytes(b"not read here")
    (tmp_path / "m.csv").write_text(
        "audio,label,caption,image,group,split\n"
        "a.wav,rain,heavy rain,frame.png,v1,train\n"
        "b.wav,fire,,,v2,train\n"
        "gone.wav,rain,,,v3,train\n"
        "b.wav,fire,,missing.png,v4,train\n"
        "a.wav,rain,,,v5,test\n"
    )
    data = load_items(tmp_path / "m.csv", split="train")
    assert [it.label for it in data.items] == ["rain", "fire"]
    assert data.items[0].text == "heavy rain" and data.items[0].group == "v1"
    assert data.items[0].image == (tmp_path / "frame.png").resolve()
    assert len(data.skipped) == 2
    report = data.report()
    assert "2 items, 2 skipped" in report and "gone.wav" in report and "missing.png" in report


def test_jsonl_manifest_with_image_list(tmp_path):
    write_wav(tmp_path / "sounds" / "x.wav")
    (tmp_path / "f2.jpg").write_bytes(b"")
    rows = [{"audio": "sounds/x.wav", "text": "birds", "images": ["f1.jpg", "f2.jpg"]}]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = load_items(tmp_path / "m.jsonl")
    assert data.items[0].image.name == "f2.jpg" and data.items[0].caption() == "birds"


def test_manifest_without_audio_column_is_refused(tmp_path):
    (tmp_path / "m.csv").write_text("file_name,label\nx.wav,a\n")
    with pytest.raises(ConfigError, match="'audio' column"):
        load_items(tmp_path / "m.csv")


def test_esc50_layout(tmp_path):
    root = tmp_path / "ESC-50"
    write_wav(root / "audio" / "1-100-A-0.wav")
    write_wav(root / "audio" / "2-200-A-1.wav")
    (root / "meta").mkdir()
    (root / "meta" / "esc50.csv").write_text(
        "filename,fold,target,category,esc10,src_file,take\n"
        "1-100-A-0.wav,1,0,dog,True,100,A\n"
        "2-200-A-1.wav,2,1,crackling_fire,False,200,A\n"
        "3-300-A-1.wav,3,1,crackling_fire,False,300,A\n"
    )
    assert detect_layout(root) == "esc50"
    data = load_items(root)
    assert [it.label for it in data.items] == ["dog", "crackling fire"]
    assert len(data.skipped) == 1
    assert [it.label for it in load_items(root, folds=[2]).items] == ["crackling fire"]
    assert [it.fold for it in data.items] == [1, 2]


def test_urbansound8k_layout(tmp_path):
    root = tmp_path / "UrbanSound8K"
    write_wav(root / "audio" / "fold1" / "100-1-0-0.wav")
    (root / "metadata").mkdir()
    (root / "metadata" / "UrbanSound8K.csv").write_text(
        "slice_file_name,fsID,start,end,salience,fold,classID,class\n"
        "100-1-0-0.wav,100,0,4,1,1,1,car_horn\n"
        "101-1-0-0.wav,101,0,4,1,2,3,dog_bark\n"
    )
    data = load_items(root)
    assert [(it.label, it.group) for it in data.items] == [("car horn", "100")]
    assert len(data.skipped) == 1


def test_vggsound_layout_with_frames(tmp_path):
    root = tmp_path / "vggsound"
    write_wav(root / "audio" / "abc_000030.wav")
    (root / "frames").mkdir()
    (root / "frames" / "abc_000030.jpg").write_bytes(b"")
    (root / "vggsound.csv").write_text(
        "abc,30,dog barking,train\nxyz,10,rain,train\nabc,30,dog barking,test\n"
    )
    data = load_items(root, split="train")
    assert len(data.items) == 1 and len(data.skipped) == 1
    item = data.items[0]
    assert (item.label, item.group, item.image.name) == ("dog barking", "abc", "abc_000030.jpg")


def test_audioset_layout(tmp_path):
    root = tmp_path / "audioset"
    write_wav(root / "audio" / "Yq1.wav")
    (root / "class_labels_indices.csv").write_text(
        'index,mid,display_name\n0,/m/09x0r,Speech\n1,/m/0jbk,"Animal"\n'
    )
    (root / "balanced_train_segments.csv").write_text(
        "# Segments csv\n# num_ytids=2\n"
        'q1, 30.000, 40.000, "/m/0jbk,/m/09x0r"\n'
        'q2, 0.000, 10.000, "/m/09x0r"\n'
    )
    data = load_items(root, split="balanced_train")
    assert [(it.label, it.text) for it in data.items] == [("Animal", "Animal, Speech")]
    assert len(data.skipped) == 1
    with pytest.raises(ConfigError, match="AudioSet splits"):
        load_items(root, split="nope")


def test_unknown_folder_and_layout(tmp_path):
    with pytest.raises(ConfigError, match="not a recognised dataset folder"):
        load_items(tmp_path)
    with pytest.raises(ConfigError, match="unknown dataset layout"):
        load_items(tmp_path, layout="imagenet")
    with pytest.raises(FileNotFoundError):
        load_items(tmp_path / "nothing")


def test_features_are_computed_cached_and_unreadable_files_skipped(tmp_path):
    good = write_wav(tmp_path / "good.wav", seconds=0.3)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really a wav")
    items = [TrainItem(good), TrainItem(bad), TrainItem(torch.zeros(1, 4, 5))]
    cache = tmp_path / "cache"
    features, skipped = compute_item_features(items, "soundscapes", cache_dir=cache)
    assert features[0].shape == (1, 64, 251) and features[1] is None
    assert features[2].shape == (1, 4, 5)
    assert len(skipped) == 1 and "bad.wav" in skipped[0][0]
    assert len(list(cache.glob("*.safetensors"))) == 1
    again, _ = compute_item_features(items[:1], "soundscapes", cache_dir=cache)
    torch.testing.assert_close(again[0], features[0])


def test_waveform_items_use_the_front_end():
    samples = np.zeros(8000, dtype=np.float32)
    features, skipped = compute_item_features([TrainItem((16000, samples))], "soundscapes")
    assert features[0].shape == (1, 64, 251) and not skipped


def test_text_augmentation_is_seeded():
    def run(seed):
        g = torch.Generator().manual_seed(seed)
        return [augment_text("heavy rain and loud thunder at night", generator=g) for _ in range(5)]

    assert run(0) == run(0)
    assert run(0) != run(1)
    assert any(v != "heavy rain and loud thunder at night" for v in run(0))
    assert "downpour" in synonyms("rain")
    g = torch.Generator().manual_seed(0)
    variants = text_variants("fire", 3, generator=g)
    assert variants[0] == "fire" and len(variants) == 3
    assert augment_text("", generator=g) == ""


def test_shipped_recipes_load_strictly():
    from pathlib import Path

    from soundedit.config import load_file
    from soundedit.train.config import TrainConfig

    recipes = sorted((Path(__file__).parents[2] / "soundedit" / "train" / "recipes").glob("*.toml"))
    assert len(recipes) == 2
    for path in recipes:
        config = load_file(TrainConfig, path)
        config.validate()
        assert config.encoder["embed_dim"] == 512 and config.losses.weak_kl > 0
