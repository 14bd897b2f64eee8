"""The moderators' batch: many items in, one verdict document per item out."""
