"""groupdesk: on-site response to collective customer complaints, run by Temporal workflows."""

TASK_QUEUE = "groupdesk"
