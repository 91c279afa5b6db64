"""Custom search attributes: how the board and `groupdesk list` find incidents without querying each."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("GroupdeskStatus")
STAGE = SearchAttributeKey.for_keyword("GroupdeskStage")
CURRENT_STEPS = SearchAttributeKey.for_keyword_list("GroupdeskCurrentSteps")
WARNING_TIER = SearchAttributeKey.for_int("GroupdeskWarningTier")
HALL = SearchAttributeKey.for_keyword("GroupdeskHall")
PLAYBOOK = SearchAttributeKey.for_keyword("GroupdeskPlaybook")
HEADCOUNT = SearchAttributeKey.for_int("GroupdeskHeadcount")
DRILL = SearchAttributeKey.for_bool("GroupdeskDrill")
# Whether an approval waits ("-" no, "pending" while its SMS goes out, else the keyed hash of
# its code: never the code), and the keyed hash of the lead complainant's phone while a
# follow-up answer is awaited (never the number), by which that SMS answer finds the incident.
# Both hashes are made outside workflow code (groupdesk/runtime/keyed.py).
# The attribute keeps the name it had when it held the code itself, so running incidents are still found.
APPROVAL_KEY = SearchAttributeKey.for_keyword("GroupdeskApprovalCode")
FOLLOW_UP_KEY = SearchAttributeKey.for_keyword("GroupdeskFollowUpKey")

# How many actions are parked as failed, waiting for ops.
FAILED_ACTIONS = SearchAttributeKey.for_int("GroupdeskFailedActions")
# What the live board shows without querying each incident: an incident's earliest active step deadline (passed
# or not; the reader tells overdue by its own clock, groupdesk.engine.visibility.overdue), a corrective action's due
# time. The flag: a corrective action past its due time, or an incident of the previous release past a deadline.
NEXT_DEADLINE = SearchAttributeKey.for_datetime("GroupdeskNextDeadline")
OVERDUE = SearchAttributeKey.for_bool("GroupdeskOverdue")

# Set at start by the client: the keyed hash of the lead's phone (how a repeat complaint finds an open
# incident of the same complainant), and the earlier incident a repeat complaint is linked to.
COMPLAINANT = SearchAttributeKey.for_keyword("GroupdeskComplainant")
REPEAT_OF = SearchAttributeKey.for_keyword("GroupdeskRepeatOf")
# Set at start by the client: keyed hashes of the registered account number and community ("account:<hash>",
# "community:<hash>"), how a repeat complaint by either finds an open incident (groupdesk/record/repeat_keys.py).
REPEAT_KEYS = SearchAttributeKey.for_keyword_list("GroupdeskRepeatKeys")
# Set at start by the client: the name of the sensitive period the incident started in (the board's flag).
SENSITIVE_PERIOD = SearchAttributeKey.for_keyword("GroupdeskSensitivePeriod")

# Promises (set once an incident has one): the earliest due time of those not kept yet (open or missed;
# unset when none is), and the statuses its promises have, so `groupdesk promises` and the board find
# the incidents with promises without reading every incident.
PROMISE_DUE = SearchAttributeKey.for_datetime("GroupdeskPromiseDue")
PROMISES = SearchAttributeKey.for_keyword_list("GroupdeskPromises")

# Published by the workflow in its first upsert: which execution mode runs the incident (groupdesk.core.versions).
# With TemporalChangeVersion (the patch markers an incident recorded) it tells `groupdesk ops versions` which
# incidents still need code of an earlier release.
ENGINE = SearchAttributeKey.for_keyword("GroupdeskEngine")

ALL = (STATUS, STAGE, CURRENT_STEPS, WARNING_TIER, HALL, PLAYBOOK, HEADCOUNT, DRILL, APPROVAL_KEY, FOLLOW_UP_KEY,
       FAILED_ACTIONS, NEXT_DEADLINE, OVERDUE, COMPLAINANT, REPEAT_OF, SENSITIVE_PERIOD,
       REPEAT_KEYS, PROMISE_DUE, PROMISES, ENGINE)


def cli_flags() -> list[str]:
    """`temporal server start-dev --search-attribute` values for every key."""
    kinds = {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList", "INT": "Int", "BOOL": "Bool",
             "DATETIME": "Datetime"}
    return [f"{key.name}={kinds[key.indexed_value_type.name.removeprefix('INDEXED_VALUE_TYPE_')]}" for key in ALL]


def indexed_types() -> dict[str, int]:
    """Name -> IndexedValueType number, for the operator service's add_search_attributes."""
    return {key.name: int(key.indexed_value_type.value) for key in ALL}
