"""Keep secrets out of what the UI sends: credentials in URLs and secret-looking query values.

Manifest texts, input locations, error messages and configured URLs all reach the page, and any
of them may carry ``user:password@`` or ``?token=...`` when someone wrote one in by mistake.
"""

from __future__ import annotations

import re

MASK = "***"

#: ``scheme://user:password@`` or ``scheme://token@``: everything between ``//`` and ``@``
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s@?#]+)@")
#: query or fragment parameters whose name says they hold a secret
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;#](?:[A-Za-z0-9_.-]*?)"
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|signature|sig|"
    r"credential|auth)[A-Za-z0-9_.-]*=)(?P<value>[^&;#\s'\"]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with URL credentials and secret query values replaced by ``***``."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{MASK}", text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)


def without_userinfo(url: str) -> str:
    """A configured base URL without any credentials (links must not carry them)."""
    return _USERINFO.sub(lambda m: m["scheme"], url)
