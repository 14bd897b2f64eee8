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
