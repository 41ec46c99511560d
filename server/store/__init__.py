"""The incident store and work queue (SQLite by default, PostgreSQL with MEDIC_DATABASE_URL)."""
