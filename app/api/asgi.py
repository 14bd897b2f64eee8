"""ASGI entry point for uvicorn workers: ``app.api.asgi:app``."""

from app.api.main import create_app

app = create_app(warm_start=True)
