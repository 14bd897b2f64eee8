"""What a batch run saw, in bounded memory: counts, a histogram, top campaigns, the
slowest items, and the items a moderator should look at."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

REVIEW = ("tampered", "spam", "suspicious", "error")
MAX_REVIEW = 500
MAX_EXAMPLES = 3
BINS = 20


@dataclass
class BatchStats:
    counts: dict[str, int] = field(default_factory=dict)
    histogram: list[int] = field(default_factory=lambda: [0] * BINS)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    review: list[dict[str, Any]] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    skipped: int = 0
    interrupted: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def errors(self) -> int:
        return self.counts.get("error", 0)

    def add(self, doc: dict[str, Any], seconds: float, text: str | None) -> None:
        verdict = str(doc.get("verdict"))
        self.counts[verdict] = self.counts.get(verdict, 0) + 1
        content = doc.get("content") or {}
        p = content.get("spam_probability")
        if isinstance(p, int | float):
            self.histogram[min(BINS - 1, int(p * BINS))] += 1
        campaign = content.get("campaign") or {}
        if campaign.get("id") and int(campaign.get("size") or 0) >= 2:
            entry = self.campaigns.setdefault(campaign["id"], {"size": 0, "examples": []})
            entry["size"] = max(entry["size"], int(campaign["size"]))
            if text is not None and len(entry["examples"]) < MAX_EXAMPLES:
                entry["examples"].append({"id": doc.get("id"), "text": text[:300]})
        if verdict in REVIEW and len(self.review) < MAX_REVIEW:
            self.review.append(
                {
                    "id": doc.get("id"),
                    "verdict": verdict,
                    "spam_probability": p,
                    "reason": (doc.get("reasons") or [""])[0],
                }
            )
        item = (seconds, str(doc.get("id")))
        if len(self.slowest) < 5:
            heapq.heappush(self.slowest, item)
        else:
            heapq.heappushpop(self.slowest, item)

    def top_campaigns(self, n: int = 10) -> list[tuple[str, dict[str, Any]]]:
        return sorted(self.campaigns.items(), key=lambda kv: -kv[1]["size"])[:n]

    def summary(self) -> dict[str, Any]:
        return {
            "items": self.total,
            "skipped_already_done": self.skipped,
            "verdicts": dict(sorted(self.counts.items())),
            "top_campaigns": [
                {"campaign": cid, "size": c["size"]} for cid, c in self.top_campaigns(5)
            ],
            "slowest": [
                {"id": item_id, "seconds": round(sec, 4)}
                for sec, item_id in sorted(self.slowest, reverse=True)
            ],
            "interrupted": self.interrupted,
        }
