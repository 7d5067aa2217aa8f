"""crmlab — a CRM analytics lab: tested helpers behind parameterised notebooks."""

__version__ = "0.1.0"
__all__ = ["__version__"]
