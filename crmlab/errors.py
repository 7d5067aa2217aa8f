"""The one exception type that means "the user's params or input are wrong".

The CLI turns it into a single ``error: ...`` line on stderr and exit code 2, with no
traceback; inside a notebook it stops the stage, and the runner recognises it by name
and reports it the same way. Everything else is a bug or an environment failure.
"""

__all__ = ["InputError", "InputWarning", "Terminated", "require_columns"]


class InputError(ValueError):
    """Bad params or bad input data; the message names the file, key or column at fault."""


def require_columns(df, columns, what: str) -> None:
    """Raise :class:`InputError` unless ``df`` is a DataFrame holding every one of ``columns``.

    Parameters
    ----------
    df : pandas or Dask DataFrame
        The table a function was given (only its column names are looked at).
    columns : iterable of str
        The columns the function needs.
    what : str
        What the table is, for the message: ``"<what>: required column 'x' missing"``.
    """
    if not hasattr(df, "columns") or not (
        type(df).__module__.startswith(("pandas", "dask"))
    ):
        raise InputError(f"{what}: expected a DataFrame, got {type(df).__name__}")
    for col in columns:
        if col not in df.columns:
            raise InputError(f"{what}: required column {col!r} missing")


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM; handled like Ctrl-C (run marked failed), CLI exit 143.

    A ``KeyboardInterrupt`` so that asyncio (papermill's kernel client) lets it through
    instead of logging and swallowing it.
    """


class InputWarning(UserWarning):
    """The input was read, but something about it needs a look (an encoding choice, stray bytes)."""
