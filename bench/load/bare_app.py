"""The ceiling for the benchmarks: a bare FastAPI app with a small JSON route, and a route
that receives a body and hashes it (bench/bench_verify.py's floor for an upload).

    .venv/bin/python -m uvicorn --app-dir bench/load bare_app:app --workers 2 \
        --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import hashlib

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, object]:
    return {"ok": True, "service": "bare"}


@app.post("/hash")
async def hash_body(request: Request) -> dict[str, object]:
    """What any service must do with an upload before it can answer: receive it, hash it."""
    body = await request.body()
    return {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
