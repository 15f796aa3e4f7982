WITH RECURSIVE s0 AS (
  SELECT
    *
  FROM events
  WHERE
    "EventCode" = '1'
), s1 AS (
  SELECT
    *,
    "host" AS "__k0",
    0 AS "__st",
    0 AS "__en"
  FROM s0
  WHERE
    NOT "host" IS NULL
), s2 AS (
  SELECT
    *,
    0 AS "__seg"
  FROM s1
), s3 AS (
  SELECT
    *,
    0 AS "__ps"
  FROM s2
), s4 AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY "__k0", "__seg", "__ps" ORDER BY "_time" DESC, "_cd" DESC) AS "__pos",
    COUNT(*) OVER (
      PARTITION BY "__k0", "__seg", "__ps"
      ORDER BY "_time" DESC
      RANGE BETWEEN UNBOUNDED PRECEDING AND CAST(29.999999 AS DOUBLE) FOLLOWING
    ) + 1 AS "__next",
    COUNT(*) OVER (PARTITION BY "__k0", "__seg", "__ps") AS "__cnt"
  FROM s3
), anchors5 AS (
  SELECT DISTINCT
    "__k0",
    "__seg",
    "__ps",
    1 AS "__pos"
  FROM s4
  UNION ALL
  SELECT
    "__a"."__k0",
    "__a"."__seg",
    "__a"."__ps",
    "__n"."__next" AS "__pos"
  FROM anchors5 AS __a
  INNER JOIN s4 AS __n
    ON "__a"."__k0" = "__n"."__k0"
    AND "__a"."__seg" = "__n"."__seg"
    AND "__a"."__ps" = "__n"."__ps"
    AND "__a"."__pos" = "__n"."__pos"
  WHERE
    "__n"."__next" <= "__n"."__cnt"
), s6 AS (
  SELECT
    __r.*,
    CASE WHEN NOT "__k"."__pos" IS NULL THEN 1 ELSE 0 END AS "__anc"
  FROM s4 AS __r
  LEFT JOIN anchors5 AS __k
    ON "__r"."__k0" = "__k"."__k0"
    AND "__r"."__seg" = "__k"."__seg"
    AND "__r"."__ps" = "__k"."__ps"
    AND "__r"."__pos" = "__k"."__pos"
), s7 AS (
  SELECT
    *,
    SUM("__anc") OVER (
      PARTITION BY "__k0", "__seg", "__ps"
      ORDER BY "__pos" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__sp"
  FROM s6
), s8 AS (
  SELECT
    *,
    (
      ROW_NUMBER() OVER (PARTITION BY "__k0", "__seg", "__ps", "__sp" ORDER BY "_time" DESC, "_cd" DESC) - 1
    ) // 1000 AS "__chunk",
    COUNT(*) OVER (
      PARTITION BY "__k0", "__seg", "__ps", "__sp"
      ORDER BY "_time" DESC, "_cd" DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__n"
  FROM s7
), s9 AS (
  SELECT
    *,
    CASE
      WHEN "__sp" < MAX("__sp") OVER (PARTITION BY "__k0", "__seg", "__ps")
      THEN 1
      ELSE 0
    END AS "__split"
  FROM s8
), s10 AS (
  SELECT
    MIN("_time") AS "_time",
    MIN("__k0") AS "host",
    LISTAGG(
      "_raw", '
'
      ORDER BY
        "_time" ASC NULLS FIRST,
        "_cd" ASC NULLS FIRST
    ) AS "_raw",
    ROUND(MAX("_time") - MIN("_time"), 6) AS "duration",
    COUNT(*) AS "eventcount",
    CASE
      WHEN MAX("__st") IS NULL
      OR MAX("__en") IS NULL
      OR MAX("__split") IS NULL
      OR CASE WHEN COUNT(*) = 1000 THEN 1 ELSE 0 END IS NULL
      THEN NULL
      ELSE GREATEST(MAX("__st"), MAX("__en"), MAX("__split"), CASE WHEN COUNT(*) = 1000 THEN 1 ELSE 0 END)
    END AS "closed_txn",
    COUNT(*) AS "field_match_sum",
    MAX("_cd") AS "_cd"
  FROM s9
  WHERE
    "__n" - "__chunk" * 1000 > 1
  GROUP BY
    "__k0",
    "__seg",
    "__ps",
    "__sp",
    "__chunk"
  UNION ALL
  SELECT
    "_time" AS "_time",
    "__k0" AS "host",
    "_raw" AS "_raw",
    ROUND("_time" - "_time", 6) AS "duration",
    1 AS "eventcount",
    CASE
      WHEN "__st" IS NULL OR "__en" IS NULL OR "__split" IS NULL OR 0 IS NULL
      THEN NULL
      ELSE GREATEST("__st", "__en", "__split", 0)
    END AS "closed_txn",
    1 AS "field_match_sum",
    "_cd" AS "_cd"
  FROM s9
  WHERE
    "__n" - "__chunk" * 1000 = 1
)
SELECT
  "host" AS "host",
  "duration" AS "duration"
FROM s10
ORDER BY
  "_time" DESC,
  "_cd" DESC
