"""Console start forms already submitted, by form token: a second click opens no second incident."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from groupdesk.storage import Database, open_database
from groupdesk.storage.dialect import insert_new
from groupdesk.storage.schema import submissions


class Submissions:
    def __init__(self, target):
        self.db: Database = open_database(target)

    def get(self, token: str) -> str | None:
        with self.db.read() as c:
            return c.execute(select(submissions.c.incident_id).where(submissions.c.token == token)).scalar()

    def claim(self, token: str, incident_id: str) -> bool:
        with self.db.write() as c:
            return insert_new(c, submissions, "token", dict(token=token, incident_id=incident_id))

    def move(self, token: str, incident_id: str) -> None:
        """The form started another id than it claimed (a repeat complaint's next free id)."""
        with self.db.write() as c:
            c.execute(update(submissions).where(submissions.c.token == token).values(incident_id=incident_id))

    def release(self, token: str) -> None:
        with self.db.write() as c:
            c.execute(delete(submissions).where(submissions.c.token == token))
