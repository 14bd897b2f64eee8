"""Texts the shipped spam classifier must get right: obvious spam, obvious ham, a spam email."""

from __future__ import annotations

SPAM = [
    "WIN a FREE iPhone!!! click http://bit.ly/xyz now",
    "Check out my channel and subscribe!!!",
    "URGENT! You have won a £1000 cash prize. Call 09061701461 to claim, T&C apply",
    "Make money fast working from home, visit www.easy-cash.biz today",
]
HAM = [
    "Thanks for the notes from today's meeting, see you Tuesday",
    "I love this song, it reminds me of my childhood",
    "Can you pick up some milk on the way home?",
    "The patch looks fine to me, but please add a test for the empty case.",
]
SPAM_EMAIL = (
    "From: Prize Dept <winner@lotto.example>\nTo: you@example.org\n"
    "Subject: You are a WINNER\nContent-Type: text/html\n\n"
    "<html><body><p>CONGRATULATIONS! You have been selected to receive $5,000,000."
    " <a href='http://claim.example/now'>Click here</a> to claim your prize"
    " today. Limited time offer, act now!</p></body></html>\n"
)
