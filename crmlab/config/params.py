"""Validated params: read-only sections that are still plain dicts and lists.

The loader (:mod:`crmlab.config.load`) turns every section into a :class:`Params`, every
open mapping into a :class:`Params` and every list into a :class:`FrozenList`. They are
``dict``/``list`` subclasses, so they dump to JSON as they are (YAML via
:func:`plain`), compare equal to plain values and pass wherever a mapping or a list is
expected; but setting or deleting a key, an attribute or an item raises ``TypeError``: a
stage that wants another value builds a changed copy (``{**section, "seed": 1}``), it never
changes the params the other stages see.
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn

__all__ = ["Params", "FrozenList", "freeze", "plain"]


def _refuse(what: str, where: str) -> NoReturn:
    place = f"'{where}'" if where else "the params"
    raise TypeError(
        f"params are read-only: cannot {what} {place}; build a changed copy "
        "(e.g. {**section, 'key': value}) or change the params file / --set"
    )


class Params(dict):
    """A validated, read-only params section: a ``dict`` that also allows ``p.key`` access.

    Being a dict keeps it JSON-serialisable for the manifest. ``dict(p)`` or ``{**p}`` is a
    plain, mutable shallow copy.

    Parameters
    ----------
    data : mapping, optional
        The section's keys and (already frozen) values.
    where : str, optional
        The section's dotted name, for error messages.
    """

    __slots__ = ("_where",)

    def __init__(self, data: Any = (), where: str = "") -> None:
        super().__init__(data)
        object.__setattr__(self, "_where", where)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:  # attribute protocol wants AttributeError
            raise AttributeError(name) from exc

    def _key(self, key: Any) -> str:
        return f"{self._where}.{key}" if self._where else str(key)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        _refuse("set", self._key(name))

    def __delattr__(self, name: str) -> NoReturn:
        _refuse("delete", self._key(name))

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        _refuse("set", self._key(key))

    def __delitem__(self, key: Any) -> NoReturn:
        _refuse("delete", self._key(key))

    def _change(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("change the keys of", self._where)

    update = setdefault = pop = popitem = clear = __ior__ = _change

    def __reduce__(self) -> tuple:  # pickle/copy without going through __setitem__
        return (type(self), (dict(self), self._where))

    def __copy__(self) -> Params:
        return type(self)(self, self._where)

    def __deepcopy__(self, memo: dict) -> Params:
        return type(self)({k: copy.deepcopy(v, memo) for k, v in self.items()}, self._where)


class FrozenList(list):
    """A read-only list of params values (``k_range``, ``watch_tiers``, ...).

    ``list(x)`` or ``[*x]`` is a plain, mutable copy; ``x + [...]`` returns a plain list.
    """

    __slots__ = ("_where",)

    def __init__(self, data: Any = (), where: str = "") -> None:
        super().__init__(data)
        object.__setattr__(self, "_where", where)

    def _change(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("change the items of", self._where)

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _change
    append = extend = insert = remove = pop = clear = sort = reverse = _change

    def __reduce__(self) -> tuple:
        return (type(self), (list(self), self._where))

    def __copy__(self) -> FrozenList:
        return type(self)(self, self._where)

    def __deepcopy__(self, memo: dict) -> FrozenList:
        return type(self)([copy.deepcopy(v, memo) for v in self], self._where)


def freeze(value: Any, where: str = "") -> Any:
    """Return ``value`` with every mapping a :class:`Params` and every list a :class:`FrozenList`.

    Parameters
    ----------
    value : Any
        A checked params value (scalar, list or mapping, nested).
    where : str, optional
        Its dotted name, for error messages.
    """
    if isinstance(value, dict):
        return Params(
            {k: freeze(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}, where
        )
    if isinstance(value, list):
        return FrozenList([freeze(v, f"{where}[{i}]") for i, v in enumerate(value)], where)
    return value


def plain(value: Any) -> Any:
    """Return params (or any nesting of dicts, lists and tuples) as plain dicts and lists.

    For YAML, whose safe dumper knows ``dict`` and ``list`` but not their subclasses.
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _register_yaml() -> None:
    """Let ``yaml.safe_dump`` write frozen params as the plain mappings and lists they are.

    A user who dumps ``dict(params.survey.constructs)`` (a copy whose values are still
    :class:`FrozenList`) gets YAML, not ``RepresenterError``.
    """
    import yaml

    yaml.SafeDumper.add_representer(FrozenList, lambda d, v: d.represent_list(list(v)))
    yaml.SafeDumper.add_representer(Params, lambda d, v: d.represent_dict(dict(v)))


_register_yaml()
