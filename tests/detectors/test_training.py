from __future__ import annotations

import json
from pathlib import Path

from detectors.evaluation import render_table
from detectors.metrics import scores
from detectors.spam import SpamClassifier
from detectors.training import train_main

BORDERLINE = "New music video out now, go watch it on my page"
FIXTURE = [
    ("Free ringtones, text WIN to 80082 now", "spam"),
    ("Click http://cheap-pills.example for 90% off", "spam"),
    ("Subscribe to my channel for free gift cards!!!", "spam"),
    ("You won a prize, call 0800 123 456 to claim", "spam"),
    ("Earn $500 a day from home, visit www.jobs.biz", "spam"),
    ("Check out my channel, I post every day", "spam"),
    ("See you at lunch tomorrow", "ham"),
    ("Great song, I listen to it every morning", "ham"),
    ("The meeting moved to 3pm, room 4", "ham"),
    ("Can you send me the report when you have a minute?", "ham"),
    ("This video brings back so many memories", "ham"),
    ("Happy birthday, hope you have a lovely day", "ham"),
]


def _train(tmp_path: Path, name: str, label: str) -> SpamClassifier:
    labels = tmp_path / f"{name}.jsonl"
    rows = [*FIXTURE, (BORDERLINE, label)]
    labels.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows))
    report = train_main(None, labels, tmp_path / name)
    assert report["counts"] == {"train": 13, "feedback": 13}
    assert (tmp_path / name / "head.npz").exists()
    clf = SpamClassifier.load(tmp_path / name)
    assert clf.model_version == report["model_version"]
    return clf


def test_feedback_flips_a_borderline_answer(tmp_path: Path) -> None:
    as_ham = _train(tmp_path, "ham", "ham")
    as_spam = _train(tmp_path, "spam", "spam")
    p_ham = as_ham.predict_proba([BORDERLINE])[0]
    p_spam = as_spam.predict_proba([BORDERLINE])[0]
    assert p_ham < as_ham.threshold <= p_spam, (p_ham, p_spam)
    assert as_ham.model_version != as_spam.model_version


def test_feedback_accepts_pairs_and_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in FIXTURE))
    from_csv = train_main(None, csv_path, tmp_path / "csv")
    from_pairs = train_main(None, FIXTURE, tmp_path / "pairs")
    assert from_csv["model_version"] == from_pairs["model_version"]


def test_scores_and_table_rendering() -> None:
    s = scores([1, 1, 0, 0], [0.9, 0.4, 0.2, 0.6])
    assert (s.f1, s.precision, s.recall, s.roc_auc) == (0.5, 0.5, 0.5, 0.75)
    from detectors.evaluation import GroupResult

    table = render_table([GroupResult("youtube-X", 4, 2, 0, s, s)])
    assert "| youtube-X | 4 (2) | 0 | 0.500 / 0.500 |" in table


def test_finetuned_adapter_ships_small_and_reloads(tmp_path: Path) -> None:
    from detectors.finetune import FinetuneConfig
    from detectors.training import TrainConfig

    config = TrainConfig(finetune=FinetuneConfig(pairs=64, batch_size=16, max_seq_length=32))
    report = train_main(None, FIXTURE, tmp_path / "tuned", config)
    adapter = tmp_path / "tuned" / "adapter.safetensors"
    assert 0 < adapter.stat().st_size < 1024 * 1024
    tuned = SpamClassifier.load(tmp_path / "tuned")
    frozen = SpamClassifier.load()
    assert tuned.model_version == report["model_version"]
    texts = [t for t, _ in FIXTURE[:3]]
    assert abs(tuned.embedder.encode(texts) - frozen.embedder.encode(texts)).max() > 1e-4
    probs = tuned.predict_proba(texts)
    assert probs == SpamClassifier.load(tmp_path / "tuned").predict_proba(texts)


def test_bf16_autocast_step_trains_the_float32_adapter() -> None:
    import torch

    from detectors.embedder import load_base_model
    from detectors.finetune import _embed
    from detectors.lora import inject_lora

    model = load_base_model(fresh=True)
    params = inject_lora(model[0].auto_model, rank=4, alpha=8.0)
    texts = [t for t, _ in FIXTURE[:6]]
    fp32 = _embed(model, texts, 32, bf16=False)
    bf16 = _embed(model, texts, 32, bf16=True)
    assert bf16.dtype == torch.float32
    assert float((fp32 * bf16).sum(1).min()) > 0.99
    (bf16 * fp32.detach()).sum().backward()
    assert params and all(p.dtype == torch.float32 for p in params)
    grads = [p.grad for p in params]
    assert all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
    assert any(float(g.abs().max()) > 0 for g in grads if g is not None)
