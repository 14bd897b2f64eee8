"""Labelled corpora from the shared data folder, deduplicated, with group hold-outs."""

from __future__ import annotations

import csv
import gzip
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from detectors.errors import TrainingDataError
from detectors.normalize import canonical_key, normalize_text

__all__ = [
    "SA_HELD_OUT_GROUPS",
    "YOUTUBE_FILES",
    "Example",
    "Split",
    "build_splits",
    "dedup_exact",
    "drop_near_duplicates",
    "load_corpus",
    "load_extra_labels",
    "make_example",
    "parse_label",
]

YOUTUBE_FILES = {
    "Psy": "Youtube01-Psy.csv",
    "KatyPerry": "Youtube02-KatyPerry.csv",
    "LMFAO": "Youtube03-LMFAO.csv",
    "PewDiePie": "Youtube06-PewDiePie.csv",
    "Avengers": "Youtube07-Avengers.csv",
    "PlayStation4": "Youtube08-PlayStation4.csv",
}
SA_HELD_OUT_GROUPS = ("easy-ham-2", "spam-2")
_SPAM_WORDS = {"spam", "1", "true", "yes"}
_HAM_WORDS = {"ham", "0", "false", "no"}


@dataclass(frozen=True)
class Example:
    """One labelled text: ``label`` is 1 for spam; ``group`` names its source slice."""

    text: str
    label: int
    source: str
    group: str
    key: str = field(default="", compare=False)


@dataclass
class Split:
    """Training pool and named held-out sets (each already deduplicated against training)."""

    train: list[Example]
    tests: dict[str, list[Example]]
    removed: dict[str, int]


def parse_label(value: object) -> int:
    word = str(value).strip().lower()
    if word in _SPAM_WORDS:
        return 1
    if word in _HAM_WORDS:
        return 0
    raise TrainingDataError(f"unknown label {value!r}: use spam/ham or 1/0")


def make_example(raw: str, label: int, source: str, group: str) -> Example:
    text = normalize_text(raw)
    return Example(text, label, source, group, canonical_key(text))


def _load_sms(path: Path) -> Iterator[Example]:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        for row in reader:
            if len(row) >= 2 and row[1].strip():
                yield make_example(row[1], parse_label(row[0]), "sms", "sms")


def _load_youtube(path: Path, video: str) -> Iterator[Example]:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            content = row.get("CONTENT") or ""
            if content.strip():
                yield make_example(content, parse_label(row["label"]), "youtube", video)


def _load_spamassassin(path: Path) -> Iterator[Example]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            yield make_example(obj["text"], parse_label(obj["label"]), "spamassassin", obj["group"])


def load_corpus(data_dir: Path) -> list[Example]:
    """Every labelled example under ``data_dir`` (the ``spam/`` folder or its parent)."""
    root = data_dir / "spam" if (data_dir / "spam").is_dir() else data_dir
    if not (root / "sms_spam_collection.tsv").exists():
        raise TrainingDataError(f"no spam corpora under {data_dir}")
    out = list(_load_sms(root / "sms_spam_collection.tsv"))
    for video, name in YOUTUBE_FILES.items():
        out.extend(_load_youtube(root / name, video))
    sa = root / "spamassassin.jsonl.gz"
    if sa.exists():
        out.extend(_load_spamassassin(sa))
    return out


def load_extra_labels(source: Path | Iterable[tuple[str, str | int]]) -> list[Example]:
    """Operator feedback: a JSONL/CSV file with ``text`` and ``label`` or (text, label) pairs."""
    pairs: list[tuple[str, object]] = []
    if isinstance(source, Path):
        if source.suffix.lower() in {".jsonl", ".json", ".ndjson"}:
            with source.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        obj = json.loads(line)
                        pairs.append((str(obj["text"]), obj["label"]))
        else:
            with source.open(encoding="utf-8", newline="") as fh:
                pairs.extend((row["text"], row["label"]) for row in csv.DictReader(fh))
    else:
        pairs.extend(source)
    return [make_example(t, parse_label(lab), "feedback", "feedback") for t, lab in pairs]


def dedup_exact(examples: Iterable[Example]) -> list[Example]:
    """First occurrence of each canonical text; texts seen with both labels are dropped."""
    labels: dict[str, set[int]] = {}
    first: dict[str, Example] = {}
    for ex in examples:
        labels.setdefault(ex.key, set()).add(ex.label)
        first.setdefault(ex.key, ex)
    return [ex for key, ex in first.items() if len(labels[key]) == 1]


def drop_near_duplicates(
    train: Sequence[Example], test: Sequence[Example], threshold: float = 0.8
) -> tuple[list[Example], int]:
    """Remove test items whose text nearly duplicates a training text (MinHash, Jaccard)."""
    from datasketch import MinHashLSH

    from detectors.campaign import minhash_of, shingles

    lsh = MinHashLSH(threshold=threshold, num_perm=64)
    for i, ex in enumerate(train):
        sh = shingles(ex.text)
        if sh:
            lsh.insert(str(i), minhash_of(sh, num_perm=64))
    train_keys = {ex.key for ex in train}
    kept: list[Example] = []
    for ex in test:
        sh = shingles(ex.text)
        if ex.key in train_keys or (sh and lsh.query(minhash_of(sh, num_perm=64))):
            continue
        kept.append(ex)
    return kept, len(test) - len(kept)


def _stratified_slice(items: list[Example], frac: float, seed: int) -> tuple[list, list]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    test: list[Example] = []
    rest: list[Example] = []
    for label in (0, 1):
        bucket = [ex for ex in items if ex.label == label]
        rng.shuffle(bucket)
        cut = round(len(bucket) * frac)
        test.extend(bucket[:cut])
        rest.extend(bucket[cut:])
    return rest, test


def build_splits(
    corpus: Sequence[Example],
    held_out_video: str | None,
    *,
    test_frac: float = 0.2,
    seed: int = 13,
) -> Split:
    """Training pool plus held-out sets.

    Held out: one whole YouTube video (or none), a random SMS slice, a random slice of the
    2002 SpamAssassin groups and the whole 2003 groups (``easy-ham-2`` + ``spam-2``).
    The corpus is deduplicated first; every test set then loses items that exactly or
    nearly duplicate a training text.
    """
    unique = dedup_exact(corpus)
    sms = [ex for ex in unique if ex.source == "sms"]
    sms_train, sms_test = _stratified_slice(sms, test_frac, seed)
    sa = [ex for ex in unique if ex.source == "spamassassin"]
    sa_group = [ex for ex in sa if ex.group in SA_HELD_OUT_GROUPS]
    sa_train, sa_test = _stratified_slice(
        [ex for ex in sa if ex.group not in SA_HELD_OUT_GROUPS], test_frac, seed
    )
    yt = [ex for ex in unique if ex.source == "youtube"]
    yt_train = [ex for ex in yt if ex.group != held_out_video]
    others = [ex for ex in unique if ex.source not in {"sms", "spamassassin", "youtube"}]
    train = sms_train + sa_train + yt_train + others
    raw_tests = {"sms-slice": sms_test, "spamassassin-slice": sa_test}
    if sa_group:
        raw_tests["spamassassin-2003-groups"] = sa_group
    if held_out_video is not None:
        raw_tests[f"youtube-{held_out_video}"] = [ex for ex in yt if ex.group == held_out_video]
    tests: dict[str, list[Example]] = {}
    removed: dict[str, int] = {}
    for name, items in raw_tests.items():
        tests[name], removed[name] = drop_near_duplicates(train, items)
    return Split(train=train, tests=tests, removed=removed)
