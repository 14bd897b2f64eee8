"""Fixtures for the detectors: the shipped classifier and campaign texts."""

from __future__ import annotations

import pytest

from detectors.spam import SpamClassifier

CAMPAIGN = [
    "Hey guys check out my new channel, we post funny videos every day, please subscribe!!",
    "hey guys, check out my NEW channel - we post funny videos every day. Please subscribe!",
    "Hey guys check out my new channel, we upload funny videos every day, please subscribe",
    "Hey everyone check out my new channel, we post funny videos every day, pls subscribe!!",
]
UNRELATED = [
    "This song reminds me of the summer of 2012, good times with friends at the beach.",
    "Does anyone know the name of the dancer in the yellow jacket at 2:31?",
    "The bass line in the chorus is incredible, who produced this track?",
    "Thanks for the notes from today's meeting, see you Tuesday.",
]


@pytest.fixture(scope="session")
def shipped() -> SpamClassifier:
    return SpamClassifier.load()
