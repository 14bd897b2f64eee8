"""Response bodies of every route, for the OpenAPI document and for the routes that
validate their answers (``response_model=``).

The models describe the documents as the engine and the store build them; they do not
change them. Every model allows fields it does not name (``extra="allow"``), so that a
route with ``response_model=`` never drops one, and validates strictly, so that no value
is coerced into another JSON form; routes serialise with ``exclude_unset``, so that a
field the document leaves out stays out (a record envelope without ``publisher`` keeps
verifying). ``tests/app/test_response_models.py`` checks real documents against them.
"""

from app.api.responses.base import Document
from app.api.responses.documents import (
    BucketLookupAnswer,
    ConsistencyProof,
    FeedbackLabel,
    Health,
    InclusionProof,
    ItemInfo,
    LookupBatch,
    LookupResult,
    ModelStatus,
    ProofBundle,
    PublicKeys,
    PublisherInfo,
    RecordEnvelope,
    SignResult,
    SiteHeadInfo,
)
from app.api.responses.verdict import Verdict

__all__ = [
    "BucketLookupAnswer",
    "ConsistencyProof",
    "Document",
    "FeedbackLabel",
    "Health",
    "InclusionProof",
    "ItemInfo",
    "LookupBatch",
    "LookupResult",
    "ModelStatus",
    "ProofBundle",
    "PublicKeys",
    "PublisherInfo",
    "RecordEnvelope",
    "SignResult",
    "SiteHeadInfo",
    "Verdict",
]
