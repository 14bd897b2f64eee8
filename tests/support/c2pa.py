"""C2PA assets made with the c2pa library directly, for cases the service never produces."""

from __future__ import annotations

import io

import c2pa

from signing.c2pa_certs import C2paSigningMaterial
from tests.support import media_factory


def sign_with_remote_url(material: C2paSigningMaterial, url: str) -> tuple[bytes, bytes]:
    info = c2pa.C2paSignerInfo(
        material.alg, material.cert_chain_pem, material.private_key_pem, None
    )
    with c2pa.Signer.from_info(info) as signer, c2pa.Context() as context:
        builder = c2pa.Builder({"claim_generator_info": [{"name": "test"}]}, context=context)
        builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
        builder.set_no_embed()
        builder.set_remote_url(url)
        output = io.BytesIO()
        manifest = builder.sign(signer, "image/jpeg", io.BytesIO(media_factory.make_jpeg()), output)
    return output.getvalue(), manifest


def sign_with_cawg_identity(material: C2paSigningMaterial, data: bytes) -> bytes:
    """``data`` signed with a CAWG X.509 identity assertion (c2pa's dual signer: the
    claim and the identity both signed with ``material``), and a training-and-mining
    assertion that the identity references.

    c2pa-python 0.38 builds the dual signer only from settings (``signer`` and
    ``cawg_x509_signer``), and signs with a settings signer only through the native
    context-sign call, which its wrapper reaches when it believes the context holds a
    signer: the flag is set by hand here.
    """
    local = {
        "alg": material.alg,
        "sign_cert": material.cert_chain_pem.decode(),
        "private_key": material.private_key_pem.decode(),
    }
    settings = c2pa.Settings.from_dict(
        {
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
            "core": {"allowed_network_hosts": []},
            "builder": {"thumbnail": {"enabled": False}},
            "signer": {"local": local},
            "cawg_x509_signer": {"local": dict(local)},
        }
    )
    definition = {
        "claim_generator_info": [{"name": "test"}],
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                        }
                    ]
                },
            },
            {
                "label": "cawg.training-mining",
                "data": {"entries": {"cawg.ai_training": {"use": "notAllowed"}}},
            },
        ],
    }
    with c2pa.Context(settings=settings) as context:
        builder = c2pa.Builder(definition, context=context)
        builder._has_context_signer = True
        output = io.BytesIO()
        builder.sign("image/jpeg", io.BytesIO(data), output)
    settings.close()
    return output.getvalue()
