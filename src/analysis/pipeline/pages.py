"""What every HTML page the report writes shares: its Content-Security-Policy.

The pages carry no script of their own; the policy forbids every script, and
every request beyond the page's own folder, so that even a string that slipped
through escaping could neither run nor fetch anything.
"""

from __future__ import annotations

#: Images may be the page's own files or inline data; styles are inline; nothing else loads.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; font-src data:; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
)
