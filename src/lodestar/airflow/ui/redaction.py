"""Keep secrets out of what the UI sends: credentials in URLs and secret-looking query values.

Manifest texts, input locations, error messages and configured URLs all reach the page, and any
of them may carry ``user:password@`` or ``?token=...`` when someone wrote one in by mistake.
"""

from __future__ import annotations

import re

MASK = "***"

#: ``scheme://user:password@`` or ``scheme://token@``: everything between ``//`` and ``@``
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s@?#]+)@")
#: query or fragment parameters one of whose name parts (split at ``_``, ``-``, ``.``) says it
#: holds a secret: ``token``, ``access_token``, ``X-Amz-Signature``, ``sig``, ``api_key``...
_SECRET_WORDS = (
    "password|passwd|pwd|secret|token|apikey|api[_-]key|accesskey|access[_-]key|signature|sig|"
    "credential|credentials|auth"
)
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&;#](?:[A-Za-z0-9]+[_.-])*"
    rf"(?:{_SECRET_WORDS})(?:[_.-][A-Za-z0-9]+)*=)"
    r"(?P<value>[^&;#\s'\"]+)",
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
