"""The retrieval filter: what the model may know.

`RetrievalFilter` (``guard.retrieval``) drops the documents the session's chain may not read,
quarantines poisoned chunks, redacts what the chain may not see, and builds the vector-store
pre-filter. See docs/retrieval.md.

Names are imported on first use, so that importing one piece (an authorizer, the pre-filter)
does not import the rest.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from ._access import Access as Access
    from ._access import DocumentAuthorizer as DocumentAuthorizer
    from ._access import DocumentRef as DocumentRef
    from ._access import MetadataAuthorizer as MetadataAuthorizer
    from ._access import Principal as Principal
    from ._access import access_for as access_for
    from ._filter import RetrievalFilter as RetrievalFilter
    from ._prefilter import AccessFilter as AccessFilter
    from ._prefilter import Leaf as Leaf
    from ._prefilter import access_filter as access_filter

_LAZY = {
    "Access": "._access",
    "AccessFilter": "._prefilter",
    "DocumentAuthorizer": "._access",
    "DocumentRef": "._access",
    "Leaf": "._prefilter",
    "MetadataAuthorizer": "._access",
    "Principal": "._access",
    "RetrievalFilter": "._filter",
    "access_filter": "._prefilter",
    "access_for": "._access",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())
