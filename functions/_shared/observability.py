"""Structured JSON logs and CloudWatch Embedded Metric Format (EMF) on standard output.

Plain ``logging`` and ``json`` only: importing a metrics library would cost more cold-start time
than the functions spend working. Lambda forwards every stdout line to CloudWatch Logs, which
extracts the metrics from EMF lines, so no PutMetricData call is ever made.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ROOT_LOGGER = "compliance"
_state: dict[str, str | None] = {"request_id": None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields come from ``extra=fields(...)``."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = dict(getattr(record, "fields", None) or {})
        document.update(
            timestamp=datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            level=record.levelname,
            logger=record.name,
            message=record.getMessage(),
        )
        if _state["request_id"]:
            document["requestId"] = _state["request_id"]
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, sort_keys=True, default=str)


class _StdoutHandler(logging.Handler):
    # Looks sys.stdout up on every record: test runners swap it between tests.
    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
        except Exception:  # a log line must never break the function
            self.handleError(record)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{ROOT_LOGGER}.{name}")


def configure(level: str, context: Any = None) -> None:
    """Attach the JSON handler once per container; set level and request id per invocation.

    The logger does not propagate to the root logger, whose Lambda handler would print every
    line a second time in its own format.
    """
    logger = logging.getLogger(ROOT_LOGGER)
    if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    _state["request_id"] = request_id(context)


def request_id(context: Any) -> str | None:
    value = getattr(context, "aws_request_id", None)
    return value if isinstance(value, str) and value else None


def fields(**values: Any) -> dict[str, dict[str, Any]]:
    """``logger.info("...", extra=fields(rule=...))`` adds the values as JSON fields."""
    return {"fields": values}


def emit_metrics(
    namespace: str,
    metrics: Mapping[str, float],
    dimensions: Mapping[str, str],
    *,
    unit: str = "Count",
    units: Mapping[str, str] | None = None,
    properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Print one EMF document; an empty ``dimensions`` gives the dimension set ``[[]]``.
    ``units`` gives a metric a unit other than ``unit``."""
    document: dict[str, Any] = dict(properties or {})
    document.update(dimensions)
    document.update(metrics)
    document["_aws"] = {
        "Timestamp": int(time.time() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": namespace,
                "Dimensions": [sorted(dimensions)],
                "Metrics": [
                    {"Name": name, "Unit": (units or {}).get(name, unit)}
                    for name in sorted(metrics)
                ],
            }
        ],
    }
    sys.stdout.write(json.dumps(document, sort_keys=True, default=str) + "\n")
    return document
