"""One parsed copy of each playbook snapshot, shared by every incident that carries the same one.

Every incident's input carries its playbook snapshot (~25 KB of JSON), and the worker parsed it
into its own objects for each cached incident: about 90 KiB of the worker's memory per incident,
though a mass event runs hundreds of incidents on one or two playbooks. `SharedPlaybook` (the type
of `StartIncident.playbook` and `MigratePlaybook.playbook`) parses a snapshot once and hands the same
`Playbook` to every input whose snapshot is byte-for-byte the same JSON; a different snapshot (an
edited YAML, another version) is its own entry. Shared objects are read, never changed: workflow
code does not write to its playbook (tests/test_snapshots.py checks that a whole drill leaves it
as it was), and a test that changes one works on a `model_copy(deep=True)`.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections import OrderedDict
from typing import Annotated, Any

from pydantic import ValidatorFunctionWrapHandler, WrapValidator

from groupdesk.core.playbook import Playbook

KEPT = 64  # distinct snapshots kept (playbooks x versions x edits in use at once); the oldest goes first

_parsed: OrderedDict[bytes, Playbook] = OrderedDict()
_lock = threading.Lock()


def key_of(value: dict) -> bytes | None:
    """The snapshot's identity: a hash of its JSON as given, keys in their order (None: objects inside, no
    stable key). marshal's format 0 writes plain JSON values with no back-references (the same content hashes
    the same however the parser shared its strings), four times faster than dumping the JSON again: this runs
    for every start and archive decoded in the worker."""
    try:
        data = marshal.dumps(value, 0)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(data).digest()


def _shared(value: Any, handler: ValidatorFunctionWrapHandler) -> Playbook:
    if not isinstance(value, dict):  # a Playbook built in this process: kept as it is
        return handler(value)
    key = key_of(value)
    if key is None:
        return handler(value)
    with _lock:
        found = _parsed.get(key)
        if found is not None:
            _parsed.move_to_end(key)
            return found
    playbook = handler(value)
    with _lock:
        playbook = _parsed.setdefault(key, playbook)
        while len(_parsed) > KEPT:
            _parsed.popitem(last=False)
    return playbook


SharedPlaybook = Annotated[Playbook, WrapValidator(_shared)]
