"""Shipped classifier weights (plain arrays and JSON; see ../MODEL_CARD.md)."""
