"""PostgreSQL storage: the only package that imports asyncpg and holds SQL."""
