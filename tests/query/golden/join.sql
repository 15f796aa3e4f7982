WITH s0 AS (
  SELECT
    *
  FROM events
  WHERE
    "EventCode" = '4624'
), s1 AS (
  SELECT
    *
  FROM events
  WHERE
    "EventCode" = '1'
), s2 AS (
  SELECT
    "host" AS "host",
    COUNT(*) AS "count"
  FROM s1
  WHERE
    NOT "host" IS NULL
  GROUP BY
    "host"
), s4 AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY "host" ORDER BY "host" ASC) AS "__rn3"
  FROM s2
), s5 AS (
  SELECT
    *
  FROM s4
  WHERE
    "__rn3" <= 1
), s6 AS (
  SELECT
    __ev.*,
    "__sub"."count" AS "count"
  FROM s0 AS __ev
  LEFT JOIN s5 AS __sub
    ON "__ev"."host" = "__sub"."host"
)
SELECT
  "host" AS "host",
  "count" AS "count"
FROM s6
ORDER BY
  "_time" DESC,
  "_cd" DESC
