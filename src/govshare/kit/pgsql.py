"""SQLAlchemy Core statements run on psycopg's asynchronous connections (the consumer data API's path).

The statements stay defined once, in Core, next to the synchronous code that runs them through an
engine; ``PgStatement`` compiles one for psycopg and prepares its parameters as an engine would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class PgStatement:
    """A Core statement compiled once for psycopg: its final SQL, the values of its constant
    parameters, and the bind processors of its parameters' types for this dialect (UTC datetimes,
    JSON), applied at each call as an engine would."""

    def __init__(self, statement: ClauseElement, engine: Engine) -> None:
        self.statement = statement
        dialect = engine.dialect
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        required = {name for name, b in compiled.binds.items() if b.required}
        # the SQL text does not depend on the values of ordinary parameters: expand it once
        state = compiled.construct_expanded_state(dict.fromkeys(required))
        self.sql: str = state.statement
        self.defaults = {k: v for k, v in state.parameters.items() if k not in required}
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = dialect.type_descriptor(bind.type).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out = self.defaults | dict(values)
        for name, processor in self.processors.items():
            if name in out:
                out[name] = processor(out[name])
        return out

    def bind(self, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.sql, self.params(values)
