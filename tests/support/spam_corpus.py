"""A small labelled corpus written on disk: SMS rows and every YouTube video's comments,
made from phrase parts so that no text occurs twice (for the evaluation tests)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from detectors.data import YOUTUBE_FILES

SPAM_PARTS = (
    [
        "check out my channel",
        "subscribe to me",
        "visit my page",
        "click this link",
        "free gift cards here",
        "earn money from home",
    ],
    [
        "http://win-prize.example.com",
        "www.cheap-deals.biz",
        "for daily music videos",
        "and win an iPhone",
        "plz plz share",
        "I make beats and vlogs",
    ],
    [
        "thanks!!!",
        "you won't regret it",
        "limited offer today",
        "follow back",
        "only $5 a month",
        "like this comment so others see it",
    ],
)
HAM_PARTS = (
    [
        "this song still gives me chills",
        "the dancer in yellow is amazing",
        "I listened to this on the way to school",
        "my sister sings the chorus all day",
        "the bass line is incredible",
        "brings back memories of summer",
    ],
    [
        "after all these years",
        "at the wedding last night",
        "with my grandmother",
        "since the first time I heard it",
        "in the car with friends",
        "every single morning",
    ],
    [
        "what a classic",
        "love the choreography",
        "who produced this?",
        "pure nostalgia",
        "best video of that year",
        "never gets old",
    ],
)


def comments(parts: tuple[list[str], ...], seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(" ".join(rng.choice(p) for p in parts))
    return sorted(seen)


def write_corpus(root: Path, per_video: int = 16) -> None:
    """SMS rows plus three videos; no text occurs twice in the whole corpus."""
    videos = len(YOUTUBE_FILES)
    spam = comments(SPAM_PARTS, 1, 30 + videos * per_video)
    ham = comments(HAM_PARTS, 2, 30 + videos * per_video)
    random.Random(3).shuffle(spam)
    random.Random(4).shuffle(ham)
    with (root / "sms_spam_collection.tsv").open("w", encoding="utf-8") as fh:
        fh.write("label\ttext\n")
        fh.writelines(f"spam\t{text.upper()} call 0800 555 0199\n" for text in spam[:30])
        fh.writelines(f"ham\t{text}, see you at the station\n" for text in ham[:30])
    for v, name in enumerate(YOUTUBE_FILES.values()):
        with (root / name).open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "label"])
            for i in range(per_video):
                out.writerow([f"s{v}-{i}", "a", "", spam[30 + v * per_video + i], 1])
                out.writerow([f"h{v}-{i}", "b", "", ham[30 + v * per_video + i], 0])
