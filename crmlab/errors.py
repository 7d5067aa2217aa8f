"""The one exception type that means "the user's params or input are wrong".

The CLI turns it into a single ``error: ...`` line on stderr and exit code 2, with no
traceback; inside a notebook it stops the stage, and the runner recognises it by name
and reports it the same way. Everything else is a bug or an environment failure.
"""

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad params or bad input data; the message names the file, key or column at fault."""
