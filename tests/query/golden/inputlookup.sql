WITH s0 AS (
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
), s1 AS (
  SELECT
    *
  FROM s0
  WHERE
    LOWER("dept") = 'eng'
)
SELECT
  "user" AS "user"
FROM s1
ORDER BY
  "__row" ASC
