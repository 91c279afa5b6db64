"""The JSON API's request bodies are strict: every type exact, so `"headcount": true` is not 1 and `"15"` is not 15."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictBody(BaseModel):
    """A JSON request body: no value is coerced (1 is not true, "15" is not 15, true is not 1)."""

    model_config = ConfigDict(strict=True)
