"""The ``trustseal`` command line: the root Typer app and its commands, one module per
command group.

Commands import what they use: 'serve' starts worker processes that import this package
again, and they must come up quickly."""

from __future__ import annotations

import typer

from app.cli import admin, batch, content, model, proof, serve

app = typer.Typer(
    help="TrustSeal: content provenance and anti-spam verification.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command()(serve.serve)
app.command()(content.sign)
app.command()(content.verify)
app.command()(content.fingerprint)
app.command()(batch.batch)
app.command()(model.label)
app.command()(model.train)
app.command("eval")(model.evaluate)
app.add_typer(model.adaptation_app, name="adaptation")
app.add_typer(admin.apikey_app, name="apikey")
app.add_typer(admin.publisher_app, name="publisher")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(admin.trust_app, name="trust")
app.add_typer(proof.proof_app, name="proof")


def main() -> None:
    app()
