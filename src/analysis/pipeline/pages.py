"""What every HTML page the report writes shares: its Content-Security-Policy.

Run pages carry no script; the landing page carries one small script of its
own (filtering and sorting the runs table), allowed by its SHA-256 and nothing
else. Every request beyond the page's own folder is refused, so even a string
that slipped through escaping could neither run nor fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

_BASE = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; font-src data:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'"
)


def content_security_policy(scripts: Iterable[str] = ()) -> str:
    """The policy for a page whose only scripts are ``scripts`` (their exact text, allowed by hash)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    return f"{_BASE}; script-src {hashes or chr(39) + 'none' + chr(39)}"


#: The policy of a page with no script at all.
CONTENT_SECURITY_POLICY = content_security_policy()
