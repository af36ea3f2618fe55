"""``[triggers] crons`` checked when the config is read, so a bad cron is a one-line config
error naming the file and key instead of a failure (or a silent stop) while ``dev`` runs.

The expression grammar is the scheduler's (:class:`wranglerpy.host.cron.Cron`); this
module only adds what must hold before it is handed over: ASCII text (``"²".isdigit()`` is
true in Python, so ``² * * * *`` used to crash the parser), and an expression that fires at
least once. Cloudflare refuses a cron that can never run, such as ``0 0 31 2 *``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from wranglerpy.config.fields import Reader
from wranglerpy.errors import ConfigError

# Digits, month/day names, and the cron operators Cloudflare accepts (* , - / ? L W #).
_ALLOWED = re.compile(r"[0-9A-Za-z*,\-/?#\s]*")


def check_cron(r: Reader, expression: str, where: str) -> None:
    """Raise a ConfigError at ``where`` unless ``expression`` is a cron that fires."""
    from wranglerpy.host.cron import Cron  # the scheduler's own parser

    if not expression.isascii() or not _ALLOWED.fullmatch(expression):
        bad = next(c for c in expression if not (c.isascii() and _ALLOWED.fullmatch(c)))
        raise r.error(
            where,
            f"invalid cron expression {expression!r}: {bad!r} is not allowed "
            "(use digits 0-9, names like MON or JAN, and * , - /)",
        )
    try:
        cron = Cron.parse(expression)
    except ConfigError as exc:
        if "does not run locally" in exc.message:
            r.warn(f"{where}: {exc.message}")  # valid on Cloudflare (L, W, #)
            return
        raise r.error(where, exc.message) from None
    except (ValueError, IndexError) as exc:
        raise r.error(where, f"invalid cron expression {expression!r}: {exc}") from None
    try:
        cron.next_after(datetime.now(timezone.utc))
    except ConfigError:
        raise r.error(
            where,
            f"cron expression {expression!r} never fires (no date matches it); "
            "Cloudflare refuses it",
        ) from None
