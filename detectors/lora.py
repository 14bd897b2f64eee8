"""Low-rank adapters (LoRA) for the encoder's linear layers: train, save, merge.

Only the small A/B matrices are trained and shipped; the base weights stay those of the
bundled package. At load time the product ``B @ A`` is merged into the base weights, so
inference costs nothing extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from detectors.errors import ModelUnavailable

__all__ = [
    "TARGETS",
    "LoRALinear",
    "inject_lora",
    "load_adapter_merged",
    "lora_state",
    "save_adapter",
    "unwrap_lora",
]

TARGETS = ("attention.self.query", "attention.self.value", "attention.output.dense")


class LoRALinear(nn.Module):
    """``base(x) + scale * B(A(x))`` with ``base`` frozen."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=5**0.5)
        for p in self.base.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale


def _layers(transformer: Any) -> Any:
    return transformer.encoder.layer


def _resolve(layer: nn.Module, dotted: str) -> tuple[nn.Module, str]:
    parent = layer
    *path, last = dotted.split(".")
    for name in path:
        parent = getattr(parent, name)
    return parent, last


def inject_lora(
    transformer: nn.Module, *, rank: int = 8, alpha: float = 16.0, layers: tuple[int, ...] = ()
) -> list[nn.Parameter]:
    """Wrap the target linears of ``layers`` (all when empty); return the trainable params."""
    for p in transformer.parameters():
        p.requires_grad_(False)
    params: list[nn.Parameter] = []
    all_layers = _layers(transformer)
    chosen = layers or tuple(range(len(all_layers)))
    for i in chosen:
        for dotted in TARGETS:
            parent, name = _resolve(all_layers[i], dotted)
            wrapped = LoRALinear(getattr(parent, name), rank, alpha)
            setattr(parent, name, wrapped)
            params.extend([wrapped.lora_a, wrapped.lora_b])
    return params


def lora_state(transformer: nn.Module) -> dict[str, torch.Tensor]:
    """The adapter tensors (B already multiplied by the scale), named by layer and target."""
    state: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(_layers(transformer)):
        for dotted in TARGETS:
            parent, name = _resolve(layer, dotted)
            mod = getattr(parent, name)
            if isinstance(mod, LoRALinear):
                state[f"{i}.{dotted}.a"] = mod.lora_a.detach().clone().contiguous()
                state[f"{i}.{dotted}.b"] = (mod.lora_b.detach() * mod.scale).contiguous()
    return state


def unwrap_lora(transformer: nn.Module) -> None:
    """Merge trained adapters into the base linears and remove the wrappers."""
    for layer in _layers(transformer):
        for dotted in TARGETS:
            parent, name = _resolve(layer, dotted)
            mod = getattr(parent, name)
            if isinstance(mod, LoRALinear):
                with torch.no_grad():
                    mod.base.weight += (mod.lora_b @ mod.lora_a) * mod.scale
                setattr(parent, name, mod.base)


def save_adapter(transformer: nn.Module, path: Path) -> None:
    """Write the adapter as float16 safetensors (a few hundred KiB)."""
    state = {k: v.to(torch.float16) for k, v in lora_state(transformer).items()}
    save_file(state, str(path))


def load_adapter_merged(model: Any, path: Path) -> Any:
    """Merge the adapter at ``path`` into a freshly loaded SentenceTransformer ``model``."""
    try:
        state = load_file(str(path))
    except (OSError, ValueError) as e:
        raise ModelUnavailable(f"cannot read encoder adapter {path}: {e}") from e
    layers = _layers(model[0].auto_model)
    with torch.no_grad():
        for key, a in state.items():
            if not key.endswith(".a"):
                continue
            index, dotted = key[:-2].split(".", 1)
            b = state[key[:-2] + ".b"].float()
            parent, name = _resolve(layers[int(index)], dotted)
            getattr(parent, name).weight += b @ a.float()
    model.eval()
    return model
