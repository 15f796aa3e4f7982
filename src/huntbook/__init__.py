"""huntbook: run Splunk SPL hunts straight on raw Windows logs.

The public Python API (usable from a notebook)::

    import huntbook
    ws = huntbook.Workspace("./huntbook-store")
    ws.ingest(["Security.evtx"], index="botsv2")
    ws.search('index=botsv2 EventCode=4624 | stats count by host').to_pandas()
"""

from __future__ import annotations

from huntbook.errors import HuntbookError
from huntbook.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["HuntbookError", "Workspace", "__version__"]
