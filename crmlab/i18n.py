"""Every word the lab shows, in English and in Chinese: one catalog per language.

The strings live in YAML files, one folder per language and one file per concern::

    crmlab/locale/en/common.yaml      crmlab/locale/zh/common.yaml
    crmlab/locale/en/segmentation.yaml crmlab/locale/zh/segmentation.yaml
    ...

A file's keys are prefixed by its stem (``segmentation.yaml`` holding ``sizes_title``
gives the key ``segmentation.sizes_title``); nested mappings join with dots. Values are
:meth:`str.format` templates (``"{n:,} customers"``). Both languages must hold the same
keys with the same placeholders; ``tests/test_i18n.py`` fails otherwise.

Code never branches on the language: it asks its :class:`Catalog` (``tr``) for a key::

    tr = catalog("zh")
    tr("segmentation.sizes_title")                 # '各客户细分的人数'
    tr("common.n_customers", n=1200)               # '1,200 位客户'
    tr.name("segment", "Champions")                # '冠军客户'

A stage notebook gets the catalog of its run as ``ctx.tr`` (``language`` in the params).
Values that are data, not words of the lab (a user's own segment names from
``segmentation.segment_map``, channel names from their export), pass through
:meth:`Catalog.name` unchanged when the catalog has no entry for them.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["LANGUAGES", "Catalog", "MissingMessage", "catalog", "load_messages", "placeholders", "EN"]

LANGUAGES = ("en", "zh")
# libyaml's safe loader when PyYAML was built with it: the same data, read ~10x faster
# (every stage kernel reads the catalogs on import)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MissingMessage(KeyError):
    """A key the catalog does not hold (a bug: every shown string must be in the catalogs)."""

    def __str__(self) -> str:  # KeyError quotes its argument; this reads as a sentence
        return str(self.args[0])


def _flatten(prefix: str, node: Any, out: dict[str, str], source: str) -> None:
    if isinstance(node, Mapping):
        for k, v in node.items():
            _flatten(f"{prefix}.{k}", v, out, source)
    elif isinstance(node, str):
        out[prefix] = node
    else:
        raise ValueError(f"{source}: {prefix} must be text, got {type(node).__name__}")


def load_messages(language: str) -> dict[str, str]:
    """Read every catalog file of ``language`` into one flat ``{key: template}`` dict."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    folder = resources.files("crmlab") / "locale" / language
    out: dict[str, str] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        stem = item.name[: -len(".yaml")]
        data = yaml.load(item.read_text(encoding="utf-8"), Loader=_SAFE_LOADER) or {}
        if not isinstance(data, Mapping):
            raise ValueError(f"locale/{language}/{item.name}: must be a mapping")
        _flatten(stem, data, out, f"locale/{language}/{item.name}")
    return out


def placeholders(template: str) -> set[str]:
    """Return the field names a template uses (``{n:,}`` -> ``n``)."""
    return {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(template) if f}


@dataclass(frozen=True)
class Catalog:
    """The strings of one language.

    Attributes
    ----------
    language : str
        ``en`` or ``zh``.
    messages : Mapping[str, str]
        Key -> :meth:`str.format` template.
    """

    language: str
    messages: Mapping[str, str] = field(repr=False)

    def __call__(self, key: str, /, **values: Any) -> str:
        """Return the text of ``key`` with ``values`` filled in.

        Raises
        ------
        MissingMessage
            When the key is not in the catalog.
        """
        try:
            template = self.messages[key]
        except KeyError:
            raise MissingMessage(f"no message {key!r} in the {self.language!r} catalog "
                                 f"(crmlab/locale/{self.language}/{key.split('.')[0]}.yaml)") from None
        return template.format(**values) if values else template

    def has(self, key: str) -> bool:
        """Whether the catalog holds ``key``."""
        return key in self.messages

    def name(self, kind: str, value: Any) -> str:
        """Display name of a data value of a kind (``segment``, ``tier``, ``channel`` ...).

        Looks up ``common.<kind>.<value>``; a value the catalog does not know (a user's
        own segment or channel name) is returned as it is, as text.
        """
        key = f"common.{kind}.{value}"
        return self.messages.get(key, str(value))

    def names(self, kind: str, values) -> list[str]:
        """:meth:`name` of each value."""
        return [self.name(kind, v) for v in values]

    def join(self, items) -> str:
        """Join a list for a sentence: ``a, b and c`` / ``a、b 和 c``."""
        items = [str(i) for i in items]
        if len(items) <= 1:
            return "".join(items)
        return self("common.list_join", head=self("common.list_sep").join(items[:-1]), last=items[-1])

    @property
    def is_chinese(self) -> bool:
        """True for the Chinese catalog (for typography only, never for content)."""
        return self.language == "zh"


@cache
def catalog(language: str = "en") -> Catalog:
    """Return the (cached, read-only) catalog of ``language``."""
    from types import MappingProxyType

    return Catalog(language, MappingProxyType(load_messages(language)))


EN = catalog("en")
