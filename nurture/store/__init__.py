"""Storage: SQLAlchemy models, migrations, repositories (the queries)."""
