WITH s0 AS (
  SELECT
    *
  FROM events
  WHERE
    NOT "user" IS NULL
), s1 AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY 1) AS "__row"
  FROM READ_CSV(
    '<lookups>/users.csv',
    header = TRUE,
    skip = 0,
    delim = ',',
    quote = '"',
    escape = '"',
    "columns" = {'user': 'VARCHAR', 'dept': 'VARCHAR'}
  )
), s2 AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY "user" ORDER BY "__row") AS "__pick"
  FROM s1
), s3 AS (
  SELECT
    *
  FROM s2
  WHERE
    "__pick" = 1
), s4 AS (
  SELECT
    __ev.*,
    "__lk"."dept" AS "dept"
  FROM s0 AS __ev
  LEFT JOIN s3 AS __lk
    ON "__ev"."user" = "__lk"."user"
)
SELECT
  "user" AS "user",
  "dept" AS "dept"
FROM s4
ORDER BY
  "_time" DESC,
  "_cd" DESC
