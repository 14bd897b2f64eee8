"""ASGI entry point for uvicorn workers: ``app.api.asgi:app``."""

from app.api.main import create_app

app = create_app(preload_model=True)
