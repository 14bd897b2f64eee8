"""'trustseal serve': the REST service under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from app.cli.common import fail


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run the REST service."""
    import uvicorn

    from app.api.server import uvicorn_options
    from app.observability import configure_logging, uvicorn_log_config
    from app.settings import Settings

    try:
        settings = Settings()
        settings.ensure_data_dir()
    except (ValueError, OSError) as e:
        fail(f"bad settings: {e}")
    configure_logging(settings.log_level)
    # one process per core's worth of model threads: several workers must not each
    # start a thread per core and fight over the CPU
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    uvicorn.run(
        "app.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(settings.log_level),
        timeout_worker_healthcheck=30,
        **uvicorn_options(settings),
    )
