"""structlog setup: readable in dev, JSON lines in production, personal data masked in both."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from groupdesk.runtime.masking import mask_name, mask_text

_NAME_KEYS = re.compile(r"(^|_)(name|names|lead_name|complainant)$")


def _mask(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return mask_name(value) if _NAME_KEYS.search(key) else mask_text(value)
    if isinstance(value, dict):
        return {k: _mask(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_mask(key, v) for v in value]
    return value


def mask_personal_data(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Mobiles keep their ends, names their first character, at any depth (exceptions included)."""
    return {key: _mask(key, value) for key, value in event.items()}


def configure_logging(fmt: str = "console", level: int = logging.INFO) -> None:
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json" \
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
