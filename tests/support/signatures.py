"""MinHash signatures made to agree with another on a chosen share of positions, for
campaign-index tests."""

from __future__ import annotations

import numpy as np


def with_agreement(signature: np.ndarray, share: float) -> bytes:
    """A stored signature agreeing with ``signature`` on the first ``share`` of positions."""
    other = signature.copy()
    other[int(share * len(signature)) :] += np.uint64(1)
    return other.tobytes()
