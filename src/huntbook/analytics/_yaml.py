"""The analytics' tables (methods.yaml, powershell.yaml, visibility.yaml), read from the package.

Why: parsed with libyaml's safe loader when PyYAML was built with it, the same safe subset as the
pure-Python ``yaml.safe_load`` (identical values) at about an eighth of the CPU: methods.yaml, read
twice by every hunt and ``huntbook findings`` (its methods and its event kinds), took 16 ms each
time, 2 ms with libyaml (measured). Without libyaml, the pure-Python loader.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def table(name: str) -> Any:
    """The package's YAML file ``name`` (beside this module), parsed."""
    text = resources.files("huntbook.analytics").joinpath(name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=LOADER)  # noqa: S506 (a safe loader)
