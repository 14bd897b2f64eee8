"""No private key material in any log line or response.

The real service runs as a subprocess at DEBUG log level, anchored on a real anvil node,
through a workload of signing, verification, errors, bad input and a rotation of every
service key (with a restart). Then the test reads every private key from the data
directory, and the chain account's key, and looks for each in every representation a
program might print (hex, base64, base64url, Python's bytes repr, the PEM file, its body
and each of its lines, the private scalar) in everything the service and the CLI wrote
and everything the service answered.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from nacl.signing import SigningKey

from tests.integration.conftest import DEV_KEY, Anvil
from tests.support import media_factory
from tests.support.cli import TRUSTSEAL
from tests.support.servers import free_port
from tests.support.tamper import flip_content_byte

pytestmark = pytest.mark.chain


class LoggedService:
    """``trustseal serve`` at DEBUG, its stderr and stdout kept in one file per start."""

    def __init__(self, tmp: Path, anvil: Anvil):
        self.tmp = tmp
        self.data_dir = tmp / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_")}
        self.env.update(
            TRUSTSEAL_DATA_DIR=str(self.data_dir),
            TRUSTSEAL_LOG_LEVEL="DEBUG",
            TRUSTSEAL_CHAIN_RPC_URL=anvil.url,
            TRUSTSEAL_CHAIN_PRIVATE_KEY=DEV_KEY,
            TRUSTSEAL_SEQUENCE_INTERVAL_SECONDS="0.2",
            TRUSTSEAL_ANCHOR_INTERVAL_SECONDS="0.5",
            # the first text loads the classifier, which a busy machine can take long to do
            TRUSTSEAL_VERIFY_TIMEOUT_SECONDS="300",
            HF_HUB_OFFLINE="1",
        )
        self.logs: list[Path] = []
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(
            [TRUSTSEAL, *args], env=self.env, capture_output=True, timeout=120, check=False
        )
        out = self.tmp / f"cli-{len(self.logs)}-{args[0]}-{time.monotonic_ns()}.log"
        out.write_bytes(done.stdout + b"\n" + done.stderr)
        self.logs.append(out)
        return done

    def start(self) -> None:
        log = self.tmp / f"service-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as sink:
            self.proc = subprocess.Popen(
                [TRUSTSEAL, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the service did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)
            self.proc = None


@pytest.fixture
def service(tmp_path: Path, anvil: Anvil) -> Iterator[LoggedService]:
    svc = LoggedService(tmp_path, anvil)
    yield svc
    svc.stop()


class Answers:
    """Every response the workload received, headers and body."""

    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, timeout=60)
        self.seen: list[str] = []

    def __call__(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        r = self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        self.seen.append(f"{r.status_code} {dict(r.headers)}\n{r.text}")
        assert r.status_code < 500, (method, path, r.text)
        return r


def workload(ask: Answers, sign_key: str, admin_key: str, round_: int) -> None:
    """Signing, verification, proofs, and every kind of refusal."""
    signer = {"Authorization": f"Bearer {sign_key}"}
    for path in ("/v1/keys", "/healthz", "/metrics", "/openapi.json", "/v1/log/checkpoint"):
        ask("GET", path)
    text = ask("POST", "/v1/sign", json={"text": f"a post, round {round_}"}, headers=signer)
    assert text.status_code == 200, text.text
    jpeg = ask(
        "POST",
        "/v1/sign",
        files={"file": ("a.jpg", media_factory.make_jpeg())},
        data={"title": "photo"},
        headers=signer,
    )
    assert jpeg.status_code == 200, jpeg.text
    signed = base64.b64decode(jpeg.json()["content_base64"])
    sidecar = ask(
        "POST",
        "/v1/sign",
        files={"file": ("a.png", media_factory.make("image/png"))},
        data={"sidecar": "true"},
        headers=signer,
    )
    assert sidecar.status_code == 200, sidecar.text
    ask("POST", "/v1/verify", json={"text": f"a post, round {round_}"})
    ask("POST", "/v1/verify", files={"file": ("a.jpg", signed)})
    tampered = ask(
        "POST", "/v1/verify", files={"file": ("a.jpg", flip_content_byte(signed, "image/jpeg"))}
    )
    assert tampered.json()["verdict"] == "tampered"
    ask("POST", "/v1/verify", json={"sha256": text.json()["sha256"]})
    ask("POST", "/v1/verify", json={"text": "WIN CASH NOW, reply YES for a guaranteed bonus"})
    # refusals: credentials, scopes, bad bodies, bad types, sizes, unknown things
    refusals = [
        ask("POST", "/v1/sign", json={"text": "x"}),
        ask("POST", "/v1/sign", json={"text": "x"}, headers={"Authorization": "Bearer ts_a_b"}),
        ask("POST", "/v1/sign", json={"text": "x"}, headers={"Authorization": "Basic eDp5"}),
        ask(
            "POST",
            "/v1/publishers",
            json={"name": "p", "public_key": "AAAA"},
            headers=signer,
        ),
        ask(
            "POST",
            "/v1/publishers",
            json={"name": "p", "public_key": "bad"},
            headers={"Authorization": f"Bearer {admin_key}"},
        ),
        ask(
            "POST", "/v1/verify", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        ask("POST", "/v1/verify", content=b"plain", headers={"Content-Type": "text/plain"}),
        ask("POST", "/v1/verify", json={"sha256": "zz"}),
        ask("POST", "/v1/verify", files={"file": ("a.jpg", signed[: len(signed) // 3])}),
        ask("POST", "/v1/verify", files={"file": ("x", os.urandom(256))}),
        ask("POST", "/v1/sign", json={"record": {"record": {}, "signature": "x"}}, headers=signer),
        ask("GET", "/v1/items/" + "0" * 64),
        ask("GET", "/v1/log/proof/inclusion", params={"index": 5, "size": 2}),
        ask("GET", "/v1/lookup/zz"),
    ]
    assert all(400 <= r.status_code < 500 for r in refusals), [r.status_code for r in refusals]
    # a proof bundle, once the entry is sequenced (and anchored on the node)
    sha = text.json()["sha256"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bundle = ask("GET", f"/v1/items/{sha}/bundle")
        if bundle.status_code == 200 and bundle.json().get("anchor"):
            break
        time.sleep(0.3)
    assert bundle.status_code == 200 and bundle.json()["anchor"], bundle.text


def representations(secret: bytes, *, fragments: bool = True) -> set[str]:
    """How a program might print these bytes."""
    forms = {
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret)[2:-1],
    }
    if not fragments:
        return forms
    # the start of a secret is a leak too (a truncated log field)
    return forms | {f[:32] for f in forms if len(f) > 40}


def private_key_needles(data_dir: Path) -> dict[str, set[str]]:
    """Every private key in the data directory, and the chain key, in every form."""
    needles: dict[str, set[str]] = {}
    key_files = sorted(p for p in data_dir.rglob("*.key") if p.is_file())
    assert len([p for p in key_files if p.suffix == ".key"]) >= 5, key_files
    for path in key_files:
        raw = path.read_bytes()
        name = str(path.relative_to(data_dir))
        if raw.startswith(b"-----BEGIN"):
            text = raw.decode()
            body_lines = [line for line in text.splitlines() if not line.startswith("-----")]
            key = serialization.load_pem_private_key(raw, password=None)
            if isinstance(key, ec.EllipticCurvePrivateKey):
                scalar = key.private_numbers().private_value.to_bytes(32, "big")
            else:
                assert isinstance(key, ed25519.Ed25519PrivateKey)
                scalar = key.private_bytes(
                    serialization.Encoding.Raw,
                    serialization.PrivateFormat.Raw,
                    serialization.NoEncryption(),
                )
            der = base64.b64decode("".join(body_lines))
            start = der.find(scalar)
            assert start >= 0
            # a PEM line is 48 bytes of DER; the lines past the scalar hold the public key,
            # which the certificate publishes, so only the lines that carry secret bytes
            secret_lines = {
                line
                for i, line in enumerate(body_lines)
                if 48 * i < start + len(scalar) and start < 48 * (i + 1)
            }
            forms = {text, text.strip(), json.dumps(text)[1:-1], "".join(body_lines)}
            forms |= secret_lines | representations(scalar)
            # whole DER only: its first bytes are the public ASN.1 header of every such key
            forms |= representations(der, fragments=False)
        else:
            assert len(raw) == 32, (name, len(raw))  # an Ed25519 seed
            forms = representations(raw) | representations(bytes(SigningKey(raw)._signing_key))
        needles[name] = forms
    chain = bytes.fromhex(DEV_KEY.removeprefix("0x"))
    needles["chain account key"] = representations(chain) | {DEV_KEY, DEV_KEY.upper()}
    return needles


def test_private_keys_never_in_logs_or_answers(service: LoggedService) -> None:
    made = service.cli("apikey", "create", "signer", "--scope", "sign")
    sign_key = json.loads(made.stdout)["api_key"]
    admin_key = json.loads(service.cli("apikey", "create", "ops", "--scope", "admin").stdout)[
        "api_key"
    ]
    service.start()
    ask = Answers(service.url)
    workload(ask, sign_key, admin_key, 1)
    service.stop()
    before = private_key_needles(service.data_dir)
    for purpose in ("record", "receipt", "checkpoint"):
        assert service.cli("keys", "rotate", purpose).returncode == 0
    assert service.cli("keys", "rotate", "bogus").returncode == 2
    service.cli("keys", "export")
    service.cli("sign", "--text", "signed from the command line")
    service.start()
    workload(ask, sign_key, admin_key, 2)
    keys = ask("GET", "/v1/keys").json()
    service.stop()
    service.cli("verify", "--text", "a post, round 2", "--json")

    needles = private_key_needles(service.data_dir)
    assert len(needles) > len(before)  # the rotated keys are looked for too
    assert keys  # the published document names the new keys
    outputs = {str(p.name): p.read_text(errors="replace") for p in service.logs}
    outputs["answers"] = "\n".join(ask.seen)
    service_logs = [text for name, text in outputs.items() if name.startswith("service-")]
    assert len(service_logs) == 2
    assert all('"level": "DEBUG"' in text for text in service_logs)  # DEBUG really on
    leaks = [
        (owner, where, text[max(0, text.find(form) - 80) : text.find(form) + len(form) + 20])
        for owner, forms in needles.items()
        for where, text in outputs.items()
        for form in forms
        if form in text
    ]
    assert leaks == []
