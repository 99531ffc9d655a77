"""The test servers themselves: PostgreSQL starts, takes a schema and round-trips a row."""

import sqlalchemy as sa


def test_postgres_server_creates_isolated_databases(pg_server):
    url = pg_server.create_database("servers_smoke")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id serial primary key, v text)"))
        conn.execute(sa.text("INSERT INTO t (v) VALUES ('héllo')"))
        assert conn.execute(sa.text("SELECT v FROM t")).scalar_one() == "héllo"
        assert conn.execute(sa.text("SHOW server_version")).scalar_one().startswith("15")
    engine.dispose()
    # a second create_database with the same name starts empty
    engine = sa.create_engine(pg_server.create_database("servers_smoke"))
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('public.t')")).scalar_one() is None
    engine.dispose()
