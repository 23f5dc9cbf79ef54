"""PostgreSQL store: migrations, connections and queries. The only package that holds SQL."""
