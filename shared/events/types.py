"""Field types shared by several event models."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:/-]{1,64}$")]
"""An id chosen by the recording system (audit id, notice id, report id...)."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
AmountCNY = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
"""An amount in yuan with fen precision; serialised as a JSON string, never a float."""
