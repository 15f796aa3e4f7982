"""Build stores from hand-made events, for the tests of every other stage."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from huntbook.store.core import Store


def make_store(path: str | os.PathLike[str], events: Iterable[Mapping[str, Any]]) -> Store:
    """Write normalized ``events`` (docs/architecture.md section 1) into ``path`` as one batch.

    Numbers become text (except ``_time``); fields declared multivalue become lists. ``_cd``
    follows the order of ``events``. Calling it again on the same path appends another batch.
    """
    store = Store(path)
    with store.writing(create=True):
        store.write_batch(events, inputs=[])
    return store
