"""The id types the policy models share: dotted, lower-case detector and rule ids."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

_ID = r"^[a-z0-9_]+(?:[.-][a-z0-9_]+)*$"
DetectorId = Annotated[str, Field(pattern=_ID, description="Dotted detector id, e.g. pii.email")]
RuleId = Annotated[str, Field(pattern=_ID, description="Dotted rule id, e.g. prompt.database_operations")]
