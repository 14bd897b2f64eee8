"""The ceiling for the load benchmark: a bare FastAPI app with one small JSON route.

    .venv/bin/python -m uvicorn --app-dir bench/load bare_app:app --workers 2 \
        --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, object]:
    return {"ok": True, "service": "bare"}
