"""Settings: refusals that name the setting and never echo what was given."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings
from app.store.database import Database
from tests.support.cli import run

# anvil's first development account: public, but treated here as an operator's secret
CHAIN_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def assert_no_part_of(secret: str, text: str) -> None:
    digits = secret.removeprefix("0x")
    chunks = {digits[i : i + 12] for i in range(0, len(digits) - 11, 4)}
    assert not [c for c in chunks if c in text], text


def test_settings_error_does_not_echo_the_chain_private_key(tmp_path: Path) -> None:
    """Regression: a model-level refusal printed every setting's value, truncated in the
    middle, so the tail of TRUSTSEAL_CHAIN_PRIVATE_KEY reached stderr."""
    done = run(
        ["keys", "export"],
        tmp_path / "data",
        TRUSTSEAL_ENVIRONMENT="production",
        TRUSTSEAL_CHAIN_RPC_URL="http://127.0.0.1:9",
        TRUSTSEAL_CHAIN_PRIVATE_KEY=CHAIN_KEY,
    )
    assert done.returncode == 2
    assert "production needs TRUSTSEAL_DATABASE_URL" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert_no_part_of(CHAIN_KEY, done.stderr + done.stdout)


@pytest.mark.parametrize(
    "bad_key",
    [CHAIN_KEY[:-2] + "zz", CHAIN_KEY[:-4], CHAIN_KEY + "11", "not a key at all"],
    ids=["not-hex", "short", "long", "words"],
)
def test_malformed_chain_key_refused_in_one_line_without_echo(tmp_path: Path, bad_key: str) -> None:
    """Regression: a malformed key reached eth_account and ended in a traceback."""
    done = run(
        ["keys", "export"],
        tmp_path / "data",
        TRUSTSEAL_CHAIN_RPC_URL="http://127.0.0.1:9",
        TRUSTSEAL_CHAIN_PRIVATE_KEY=bad_key,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("trustseal: bad settings:")
    assert "chain_private_key" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if bad_key != "not a key at all":
        assert_no_part_of(bad_key, done.stderr)
    else:
        assert bad_key not in done.stderr


def test_settings_repr_hides_the_chain_private_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, chain_private_key=CHAIN_KEY)
    assert settings.chain_private_key is not None
    assert settings.chain_private_key.get_secret_value() == CHAIN_KEY
    assert_no_part_of(CHAIN_KEY, repr(settings) + str(settings.model_dump()))


def test_chain_url_without_key_refused_in_one_line(tmp_path: Path) -> None:
    done = run(["keys", "export"], tmp_path / "data", TRUSTSEAL_CHAIN_RPC_URL="http://127.0.0.1:9")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "TRUSTSEAL_CHAIN_RPC_URL needs TRUSTSEAL_CHAIN_PRIVATE_KEY" in done.stderr


def test_spam_precision_reaches_the_classifier(tmp_path: Path) -> None:
    from app.verdict.content import ContentAnalyzer

    db = Database.open(f"sqlite:///{tmp_path / 'trustseal.db'}")
    fp32 = ContentAnalyzer(Settings(data_dir=tmp_path, spam_precision="fp32"), None, db)
    bf16 = ContentAnalyzer(Settings(data_dir=tmp_path, spam_precision="bf16"), None, db)
    assert fp32.classifier.embedder.tag == "base"
    assert bf16.classifier.embedder.tag == "base-bf16"
    assert Settings(data_dir=tmp_path).spam_precision == "auto"


def test_unknown_spam_precision_refused_in_one_line(tmp_path: Path) -> None:
    done = run(["keys", "export"], tmp_path / "data", TRUSTSEAL_SPAM_PRECISION="fp16")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("trustseal: bad settings:")
    assert "spam_precision" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
