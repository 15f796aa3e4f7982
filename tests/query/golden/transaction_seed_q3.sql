WITH s0 AS (
  SELECT
    *
  FROM events
  WHERE
    LOWER("index") = 'botsv2'
    AND (
      (
        (
          LOWER("sourcetype") = 'wineventlog' OR LOWER("sourcetype") = 'xmlwineventlog'
        )
        AND (
          "EventCode" = '4624'
          AND REGEXP_MATCHES("_raw", '(?:^|[\s,;])(?:Logon_Type)=\"?(?i:3)(?:\"|$|[\s,;])')
        )
      )
      OR (
        (
          (
            LOWER("sourcetype") = 'wineventlog:microsoft-windows-sysmon/operational'
            OR LOWER("sourcetype") = 'xmlwineventlog:microsoft-windows-sysmon/operational'
          )
          OR (
            (
              LOWER("sourcetype") = 'wineventlog' OR LOWER("sourcetype") = 'xmlwineventlog'
            )
            AND (
              LOWER("source") = 'wineventlog:microsoft-windows-sysmon/operational'
              OR LOWER("source") = 'xmlwineventlog:microsoft-windows-sysmon/operational'
            )
          )
        )
        AND "EventCode" = '1'
      )
    )
), s1 AS (
  SELECT
    *,
    "Logon_ID"[2] AS "login"
  FROM s0
), s2 AS (
  SELECT
    *,
    LOWER(COALESCE("login", "LogonId")) AS "session"
  FROM s1
), s3 AS (
  SELECT
    *,
    "session" AS "__k0",
    CASE WHEN "EventCode" = '4624' THEN 1 ELSE 0 END AS "__st",
    0 AS "__en"
  FROM s2
  WHERE
    NOT "session" IS NULL
), s4 AS (
  SELECT
    *,
    SUM("__st") OVER (
      PARTITION BY HASH("__k0") % 16
      ORDER BY "__k0" ASC, "_time" ASC NULLS FIRST, "_cd" ASC NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__seg",
    ROW_NUMBER() OVER (
      PARTITION BY HASH("__k0") % 16
      ORDER BY "__k0" ASC, "_time" ASC NULLS FIRST, "_cd" ASC NULLS FIRST
    ) AS "__r"
  FROM s3
), s5 AS (
  SELECT
    *,
    0 AS "__ps"
  FROM s4
), s6 AS (
  SELECT
    *,
    0 AS "__sp"
  FROM s5
), s7 AS (
  SELECT
    "__k0",
    "__seg",
    "__ps",
    "__sp",
    COUNT(*) AS "__n",
    MIN("__r") AS "__r0"
  FROM s6
  GROUP BY
    "__k0",
    "__seg",
    "__ps",
    "__sp"
), s8 AS (
  SELECT
    __m.*,
    (
      "__g"."__n" - 1 - (
        "__m"."__r" - "__g"."__r0"
      )
    ) // 1000 AS "__chunk",
    "__g"."__n" AS "__n"
  FROM s6 AS __m
  INNER JOIN s7 AS __g
    ON "__m"."__k0" = "__g"."__k0"
    AND "__m"."__seg" = "__g"."__seg"
    AND "__m"."__ps" = "__g"."__ps"
    AND "__m"."__sp" = "__g"."__sp"
), s9 AS (
  SELECT
    *,
    0 AS "__split"
  FROM s8
), s10 AS (
  SELECT
    MIN("_time") AS "_time",
    MIN("__k0") AS "session",
    ARRAY_AGG(DISTINCT "host" ORDER BY "host") FILTER(WHERE
      NOT "host" IS NULL) AS "host",
    ARRAY_AGG(
      COALESCE("ParentImage", 'NULL') ORDER BY "_time" ASC NULLS FIRST, "_cd" ASC NULLS FIRST
    ) AS "ParentImage",
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
    "__k0" AS "session",
    CASE WHEN NOT "host" IS NULL THEN ["host"] END AS "host",
    [COALESCE("ParentImage", 'NULL')] AS "ParentImage",
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
), s11 AS (
  SELECT
    *
  FROM s10
  WHERE
    "closed_txn" = 1
), s12 AS (
  SELECT
    *
  FROM s11
  WHERE
    "eventcount" > 1
)
SELECT
  "_time" AS "_time",
  "session" AS "session",
  "host" AS "host",
  "ParentImage" AS "ParentImage",
  "duration" AS "duration"
FROM s12
ORDER BY
  "_time" DESC,
  "_cd" DESC
