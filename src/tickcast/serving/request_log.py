"""One line per refused request in the server log.

BentoML logs every request its API refuses (a malformed body, a value of the wrong type) with a
full traceback: a client's mistake fills the log. Such records become one line naming the
request and the error; the traceback stays when the logger is at DEBUG, and for errors of the
server itself."""

from __future__ import annotations

import logging

from tickcast.text import clipped

# The logger BentoML's API endpoint reports refused requests on.
BENTOML_REQUEST_LOGGER = "bentoml._internal.server.http_app"


class OneLineClientErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or not _client_error(error):
            return True
        if logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return True
        first_line = next(iter(str(error).splitlines()), "")
        record.msg = (
            f"refused: {record.getMessage()}: {type(error).__name__}: {clipped(first_line, 300)}"
        )
        record.args, record.exc_info, record.exc_text = (), None, None
        return True


def _client_error(error: BaseException) -> bool:
    """A request the client got wrong (validation, a 4xx BentoML error), not a server fault."""
    from bentoml.exceptions import BentoMLException
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        return True
    return isinstance(error, BentoMLException) and error.error_code.value < 500


def one_line_client_errors() -> None:
    """Install the filter on BentoML's request logger (once per process)."""
    logger = logging.getLogger(BENTOML_REQUEST_LOGGER)
    if not any(isinstance(f, OneLineClientErrors) for f in logger.filters):
        logger.addFilter(OneLineClientErrors())
