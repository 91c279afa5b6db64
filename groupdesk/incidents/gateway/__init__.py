"""The one door to running incidents: the only package that holds a workflow handle.

The CLI, the console, the Twilio webhooks, drills and benchmarks start, change, read and list
incidents through here. `Incident` is one incident's handle (unchecked: the workflow's validators
still refuse what they refuse); `Gateway` adds what staff do, each checked by the permission rules
of groupdesk.people.permissions first, so `--as USER` on the command line is held to the console's rules.
"""

from groupdesk.incidents.gateway.corrective_handle import Corrective
from groupdesk.incidents.gateway.door import Gateway
from groupdesk.incidents.gateway.handles import UPDATE_PAUSE_S, UPDATE_TRIES, Incident, execute_update, not_ready
from groupdesk.incidents.gateway.starting import start_incident

__all__ = ["Corrective", "Gateway", "Incident", "UPDATE_PAUSE_S", "UPDATE_TRIES", "execute_update", "not_ready",
           "start_incident"]
