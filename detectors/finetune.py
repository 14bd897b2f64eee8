"""SetFit-style contrastive fine-tuning of the encoder through a low-rank adapter.

Pairs of texts with the same label are pulled together and pairs with different labels
pushed apart (cosine-similarity loss), which reshapes the embedding space around the
spam/ham distinction with a few hundred CPU steps. Only the adapter is trained.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from detectors.data import Example
from detectors.embedder import load_base_model, native_bf16
from detectors.lora import inject_lora, unwrap_lora

__all__ = ["FinetuneConfig", "finetune_encoder", "make_pairs"]


@dataclass(frozen=True)
class FinetuneConfig:
    pairs: int = 2400
    batch_size: int = 16
    max_seq_length: int = 64
    rank: int = 8
    alpha: float = 16.0
    learning_rate: float = 5e-4
    source_weights: tuple[tuple[str, float], ...] = (
        ("youtube", 0.5),
        ("feedback", 0.5),
        ("sms", 0.3),
        ("spamassassin", 0.2),
    )
    max_seconds: float = 600.0
    seed: int = 13


def make_pairs(examples: Sequence[Example], config: FinetuneConfig) -> list[tuple[str, str, float]]:
    """Anchor/partner pairs: half share the anchor's label (target 1), half do not (0)."""
    rng = random.Random(config.seed)  # noqa: S311 - reproducible sampling, not a secret
    weights = dict(config.source_weights)
    by_label: dict[int, list[Example]] = {0: [], 1: []}
    for ex in examples:
        by_label[ex.label].append(ex)
    if not by_label[0] or not by_label[1]:
        return []
    anchors = list(examples)
    counts: dict[str, int] = {}
    for ex in anchors:
        counts[ex.source] = counts.get(ex.source, 0) + 1
    anchor_w = [weights.get(ex.source, 0.2) / counts[ex.source] for ex in anchors]
    pairs: list[tuple[str, str, float]] = []
    for i, anchor in enumerate(rng.choices(anchors, weights=anchor_w, k=config.pairs)):
        same = i % 2 == 0
        pool = by_label[anchor.label if same else 1 - anchor.label]
        partner = _pick(rng, pool, anchor.source)
        pairs.append((anchor.text, partner.text, 1.0 if same else 0.0))
    return pairs


def _pick(rng: random.Random, pool: list[Example], source: str) -> Example:
    """A partner, from the anchor's own source two times in three when it has any."""
    if rng.random() < 2 / 3:
        for _ in range(8):
            cand = rng.choice(pool)
            if cand.source == source:
                return cand
    return rng.choice(pool)


def _embed(model: Any, texts: list[str], max_len: int, bf16: bool = False) -> torch.Tensor:
    batch = model.tokenizer(
        texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt"
    )
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        hidden = model[0].auto_model(**batch).last_hidden_state.float()
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def finetune_encoder(
    examples: Sequence[Example], config: FinetuneConfig | None = None
) -> tuple[Any, dict[str, torch.Tensor]]:
    """Train an adapter on ``examples``; return (merged encoder, adapter tensors)."""
    from detectors.lora import lora_state

    config = config or FinetuneConfig()
    torch.manual_seed(config.seed)
    model = load_base_model(fresh=True)
    transformer = model[0].auto_model
    params = inject_lora(transformer, rank=config.rank, alpha=config.alpha)
    pairs = make_pairs(examples, config)
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    steps = max(1, len(pairs) // config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / (0.1 * steps + 1)) * max(0.0, 1 - s / steps)
    )
    transformer.train()
    bf16 = native_bf16()
    started = time.monotonic()
    for start in range(0, steps * config.batch_size, config.batch_size):
        chunk = pairs[start : start + config.batch_size]
        left = _embed(model, [a for a, _, _ in chunk], config.max_seq_length, bf16)
        right = _embed(model, [b for _, b, _ in chunk], config.max_seq_length, bf16)
        target = torch.tensor([t for _, _, t in chunk])
        loss = torch.nn.functional.mse_loss((left * right).sum(1), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if time.monotonic() - started > config.max_seconds:
            break
    transformer.eval()
    state = lora_state(transformer)
    unwrap_lora(transformer)
    return model, state
