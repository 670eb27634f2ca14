-- The demo shop: the tables behind conf/postgres.conf (`make run
-- CONF=conf/postgres.conf`), the PostgreSQL bench (bench/pg.sh) and the
-- compose file's database (docker/docker-compose.yml).  Run as the role that
-- will own the tables (the demo's `app`); seed.sql fills them.
--
--   customers    who ordered, each of one tenant (row-level security below)
--   orders       status, total (numeric), created_at (timestamptz),
--                tags (text[]), details (jsonb)
--   order_items  the lines of an order

CREATE TABLE customers (
    id          integer     PRIMARY KEY,
    tenant      text        NOT NULL,
    name        text        NOT NULL,
    email       text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id          integer       PRIMARY KEY,
    tenant      text          NOT NULL,
    customer_id integer       NOT NULL REFERENCES customers (id),
    status      text          NOT NULL
                CHECK (status IN ('pending', 'paid', 'shipped', 'delivered',
                                  'cancelled')),
    total       numeric(10,2) NOT NULL CHECK (total >= 0),
    created_at  timestamptz   NOT NULL DEFAULT now(),
    tags        text[]        NOT NULL DEFAULT '{}',
    details     jsonb         NOT NULL DEFAULT '{}'
);

CREATE INDEX orders_status_id ON orders (status, id);
CREATE INDEX orders_customer_created ON orders (customer_id, created_at DESC);

CREATE TABLE order_items (
    order_id    integer       NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line        integer       NOT NULL,
    sku         text          NOT NULL,
    description text          NOT NULL,
    quantity    integer       NOT NULL CHECK (quantity > 0),
    unit_price  numeric(10,2) NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line)
);

-- Row-level security on customers, keyed on the caller's tenant: a tool that
-- says `postgres_set app.tenant ...;` sees its tenant's rows only, whatever
-- its SQL asks for.  FORCE makes the policy hold for the owner too (the demo
-- connects as the owner, `app`).  A session in which app.tenant was never set
-- (psql, seed.sql) or is set to '' sees every row: the demo's administrator
-- view.  A production policy would rather refuse those.
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;

CREATE POLICY customers_of_tenant ON customers
    USING (coalesce(current_setting('app.tenant', true), '') IN ('', tenant));
