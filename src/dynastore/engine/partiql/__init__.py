"""PartiQL for DynamoDB: lexer, parser and planner onto the engine's own read and write
paths (see planner.py)."""

from dynastore.engine.partiql.lexer import NOT_WELL_FORMED
from dynastore.engine.partiql.parser import parse

__all__ = ["NOT_WELL_FORMED", "parse"]
