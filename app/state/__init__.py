"""State shared by all workers: in Redis when one is configured, with an in-process
fallback while it is away (verdict cache, rate limits, the campaign index's storage).
Nothing outside this package talks to Redis."""
