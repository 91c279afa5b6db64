"""Alembic's entry: migrations run on the connection groupdesk hands over (see groupdesk.storage.migrate)."""

from alembic import context

from groupdesk.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
