"""The Akismet client platforms use (PyPI ``akismet``, its ``SyncClient``) against a real
``trustseal serve``: the client's own requests, pointed at the service through its HTTP
client, and its own reading of the answers."""

from __future__ import annotations

from collections.abc import Iterator

import akismet
import httpx
import pytest

from tests.support.servers import ServedTrustSeal as Service

BLOG = "https://blog.example"
SPAM = (
    "CLICK HERE to WIN a FREE iPhone!!! Limited offer, buy cheap followers now at "
    "www.cheap-deals.example"
)
HAM = "Thanks for the write-up, the part about the cache invalidation helped me fix our build."


class ToService(httpx.BaseTransport):
    """Sends what the client addresses to rest.akismet.com to the local service."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.HTTPTransport()
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "rest.akismet.com", request.url
        self.seen.append(request.url.path)
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return self.inner.handle_request(request)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = Service(tmp_path_factory.mktemp("akismet") / "data")
    svc.key = svc.cli("apikey", "create", "blog", "--scope", "akismet")["api_key"]  # type: ignore[attr-defined]
    svc.start()
    yield svc
    svc.stop()


def client_for(
    service: Service, key: str, transport: ToService | None = None
) -> akismet.SyncClient:
    http = httpx.Client(transport=transport or ToService(service.port), timeout=60)
    return akismet.SyncClient.validated_client(
        config=akismet.Config(key=key, url=BLOG), http_client=http
    )


def test_the_real_client_verifies_checks_and_submits(service: Service) -> None:
    transport = ToService(service.port)
    client = client_for(service, service.key, transport)  # type: ignore[attr-defined]
    assert client.verify_key() is True
    spam = client.comment_check(user_ip="203.0.113.9", comment_content=SPAM, comment_type="comment")
    assert spam in (akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD)
    ham = client.comment_check(
        user_ip="198.51.100.7", comment_content=HAM, comment_author="ana", user_agent="Firefox"
    )
    assert ham == akismet.CheckResponse.HAM
    assert client.submit_ham(user_ip="198.51.100.7", comment_content=HAM) is True
    assert client.submit_spam(user_ip="203.0.113.9", comment_content=SPAM) is True
    assert transport.seen[:1] == ["/1.1/verify-key"]
    assert "/1.1/comment-check" in transport.seen and "/1.1/submit-spam" in transport.seen


def test_a_wrong_key_is_refused_as_akismet_refuses_it(service: Service) -> None:
    with pytest.raises(akismet.APIKeyError):
        client_for(service, "ts_000000000000_not-a-key")
    http = httpx.Client(transport=ToService(service.port), timeout=60)
    unchecked = akismet.SyncClient(config=akismet.Config(key="ts_nope", url=BLOG), http_client=http)
    assert unchecked.verify_key() is False
    with pytest.raises(akismet.APIKeyError):
        unchecked.comment_check(user_ip="1.2.3.4", comment_content=HAM)
    signer = service.cli("apikey", "create", "cms", "--scope", "sign")["api_key"]
    with pytest.raises(akismet.APIKeyError):  # a TrustSeal key without the akismet scope
        client_for(service, signer)


def test_a_submitted_label_changes_the_next_answer(service: Service) -> None:
    client = client_for(service, service.key)  # type: ignore[attr-defined]
    text = "Check out my channel for more videos like this, subscribe and share with friends"
    before = client.comment_check(user_ip="192.0.2.44", comment_content=text)
    if before == akismet.CheckResponse.HAM:
        assert client.submit_spam(user_ip="192.0.2.44", comment_content=text) is True
        after = client.comment_check(user_ip="192.0.2.44", comment_content=text)
        assert after in (akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD)
    else:
        assert client.submit_ham(user_ip="192.0.2.44", comment_content=text) is True
        after = client.comment_check(user_ip="192.0.2.44", comment_content=text)
        assert after == akismet.CheckResponse.HAM
    # the site head that answers now was fitted on the label
    moderator = service.cli("apikey", "create", "mod", "--scope", "moderate")["api_key"]
    model = httpx.get(
        f"http://127.0.0.1:{service.port}/v1/model",
        headers={"Authorization": f"Bearer {moderator}"},
        timeout=10,
    ).json()
    assert "+site." in model["model_version"], model
