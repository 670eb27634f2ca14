-- The demo shop's data (schema.sql first): 3 tenants, 60 customers, 10,000
-- orders with ids 1 to 10000 (the bench looks them up at random) and their
-- lines.  Deterministic: the same rows on every load, so that the demo's
-- examples (order 42, customer 7) always answer the same.

INSERT INTO customers (id, tenant, name, email, created_at)
SELECT i,
       (ARRAY['acme', 'globex', 'initech'])[1 + i % 3],
       (ARRAY['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis',
              'Frances', 'Edsger', 'Radia'])[1 + i % 10]
           || ' '
           || (ARRAY['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson',
                     'Hamilton', 'Ritchie', 'Allen', 'Dijkstra',
                     'Perlman'])[1 + (i * 7) % 10],
       'customer' || i || '@example.com',
       timestamptz '2024-01-01 09:00:00+00' + (i * interval '36 hours')
FROM generate_series(1, 60) AS i;

INSERT INTO orders (id, tenant, customer_id, status, total, created_at, tags,
                    details)
SELECT i,
       c.tenant,
       c.id,
       (ARRAY['pending', 'paid', 'shipped', 'shipped', 'delivered',
              'delivered', 'delivered', 'cancelled'])[1 + (i * 13) % 8],
       0,
       timestamptz '2024-03-01 00:00:00+00'
           + (i * interval '47 minutes') + ((i * 31) % 60) * interval '1 second',
       CASE (i * 17) % 5
           WHEN 0 THEN ARRAY['gift']
           WHEN 1 THEN ARRAY['express', 'fragile']
           WHEN 2 THEN ARRAY[]::text[]
           WHEN 3 THEN ARRAY['b2b']
           ELSE ARRAY['express']
       END,
       jsonb_strip_nulls(jsonb_build_object(
           'carrier', (ARRAY['DHL', 'UPS', 'La Poste', 'PostNL'])[1 + i % 4],
           'shipping', jsonb_build_object(
               'country', (ARRAY['DE', 'FR', 'NL', 'GB', 'US'])[1 + (i * 3) % 5],
               'express', (i * 17) % 5 IN (1, 4)),
           'notes', CASE WHEN i % 9 = 0 THEN 'leave at the door' END))
FROM generate_series(1, 10000) AS i
JOIN customers AS c ON c.id = 1 + (i * 7) % 60;

INSERT INTO order_items (order_id, line, sku, description, quantity,
                         unit_price)
SELECT o.id,
       l,
       p.sku,
       p.description,
       1 + (o.id * l) % 3,
       p.price
FROM orders AS o
CROSS JOIN LATERAL generate_series(1, 1 + o.id % 4) AS l
JOIN (VALUES (0, 'NGX-TSHIRT', 'nginx T-shirt', 19.90),
             (1, 'NGX-MUG', 'nginx mug', 9.50),
             (2, 'MCP-STICKERS', 'MCP sticker pack', 4.00),
             (3, 'NGX-HOODIE', 'nginx hoodie', 49.00),
             (4, 'MCP-BOOK', 'The MCP handbook', 34.99))
     AS p (k, sku, description, price)
  ON p.k = (o.id + l * 7) % 5;

UPDATE orders AS o
SET total = s.total
FROM (SELECT order_id, sum(quantity * unit_price) AS total
      FROM order_items GROUP BY order_id) AS s
WHERE s.order_id = o.id;

-- the demo's best-known order (conf/demo.conf's order_status answers 42 too)
UPDATE orders
SET status = 'shipped',
    details = details || '{"tracking": "JD014600003828", "carrier": "DHL"}'
WHERE id = 42;

ANALYZE customers;
ANALYZE orders;
ANALYZE order_items;
