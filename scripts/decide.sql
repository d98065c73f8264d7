-- scripts/decide.sql: SPEC §4 steps 1-6 in DuckDB SQL. It is the peer that scripts/bench times against
-- `genoptag scan`, and a second reading of the decision procedure, written from the SPEC, that genoptag's
-- REOPEN/REVIEW lists are compared with. Checked on hand-made rows by scripts/check_decide.sh.
--
-- Placeholders, replaced textually by the caller before running:
--   $input   path of one canonical CSV export (comma-delimited, UTF-8, canonical header of SPEC §3.1)
--   $output  path of the CSV written at the end: the REOPEN and REVIEW rows, in input order, with
--            line, case_id, classification, rule, expected_outcome, decided_by, ground, c1..c4, program
-- After running, the view `decided` holds every row with its classification (scripts/check_decide.sh
-- queries it); rows that genoptag would reject have classification REJECTED and the reason in `rule`.
--
-- What this SQL leaves out, so compare it with genoptag only on data where these change nothing
-- (scripts/synth.py guarantees it: unique case_ids, no bonus CPR shared between rows except a remitted
-- refusal and its later IL22 grant):
--   * SPEC §4 step 7 (rows of the same person: PRIOR_GRANT_FOUND, LATER_GRANTED, SEVERAL_REFUSALS,
--     REMITTED_WITHOUT_NEW_DECISION) and the duplicate case_id check of SPEC §3.3;
--   * column aliases and the mapping file (the header must be canonical), encodings other than UTF-8,
--     delimiter sniffing (the delimiter is ','), FIELD_COUNT rejects (DuckDB refuses such a file);
--   * warnings and explanations (only the classification, rule, outcome, decided_by and the inputs to the
--     table are written).
--
-- Line numbers. DuckDB's CSV reader gives no line number. SPEC §3.3's `line` is the physical line on
-- which a record starts, the header being line 1; a quoted field holding a line break makes its record
-- span more lines. So: with insertion order preserved, a streaming window (no ORDER BY, so no sort, and
-- it sees the records in file order) sums over the records so far the lines each spans, 1 + the number of
-- LF characters inside its fields (a CRLF inside a quoted field counts once, a lone CR not at all):
--   line(i) = 2 + sum over j < i of (1 + lf(j)) = 1 + running_sum(i) - lf(i).
-- This is exact for LF and CRLF files whose header holds no line break; it assumes no blank lines between
-- records (DuckDB skips them, genoptag counts them).

SET preserve_insertion_order = true;

-- Value words (SPEC §3.1): case-insensitive, surrounding spaces ignored, æ/ø/å folded to ae/oe/aa.
CREATE OR REPLACE TEMP MACRO fold(s) AS
    replace(replace(replace(lower(trim(s)), 'æ', 'ae'), 'ø', 'oe'), 'å', 'aa');

-- Refusal text (SPEC §3.2, §4 step 5): folded, en/em dashes to '-', white space runs to one space,
-- '§16' to '§ 16' (and 'stk.2' to 'stk. 2').
CREATE OR REPLACE TEMP MACRO norm(s) AS
    regexp_replace(regexp_replace(
        regexp_replace(replace(replace(fold(s), '–', '-'), '—', '-'), '\s+', ' ', 'g'),
        '§(\d)', '§ \1', 'g'), 'stk\.(\d)', 'stk. \1', 'g');

-- Dates (SPEC §3.2): 2020-03-15, 15-03-2020, 15.03.2020, 15/03/2020, optionally followed by a time of
-- day after a space or 'T' (ignored). Anything else, a two-digit year included, is unreadable (NULL).
CREATE OR REPLACE TEMP MACRO pdate(s) AS CASE
    WHEN regexp_matches(trim(s), '^\d{4}-\d{2}-\d{2}([ T].*)?$') THEN try_strptime(left(trim(s), 10), '%Y-%m-%d')::DATE
    WHEN regexp_matches(trim(s), '^\d{2}-\d{2}-\d{4}([ T].*)?$') THEN try_strptime(left(trim(s), 10), '%d-%m-%Y')::DATE
    WHEN regexp_matches(trim(s), '^\d{2}\.\d{2}\.\d{4}([ T].*)?$') THEN try_strptime(left(trim(s), 10), '%d.%m.%Y')::DATE
    WHEN regexp_matches(trim(s), '^\d{2}/\d{2}/\d{4}([ T].*)?$') THEN try_strptime(left(trim(s), 10), '%d/%m/%Y')::DATE
    END;

CREATE OR REPLACE TEMP MACRO yesno(s) AS CASE fold(s) WHEN 'yes' THEN 'YES' WHEN 'ja' THEN 'YES'
    WHEN 'no' THEN 'NO' WHEN 'nej' THEN 'NO' END;

-- The dated parameters of SPEC §2, in one place.
CREATE OR REPLACE TEMP MACRO il22_in_force() AS DATE '2018-07-01';     -- lov nr. 320/2018; bek. 617/2018 § 9
CREATE OR REPLACE TEMP MACRO exam_from() AS DATE '2018-01-01';         -- bek. 617/2018 § 9, stk. 2
CREATE OR REPLACE TEMP MACRO amended_from() AS DATE '2021-06-09';      -- lov nr. 1192/2021 (L 228)

-- The refusal-text patterns of SPEC §4 step 5, on normalised text, one regular expression per ground.
-- A pattern ending in a digit must not be followed by another digit ('§ 16' is not '§ 160'), hence
-- '([^0-9]|$)' (RE2 has no look-ahead). '§ 2, stk. 2-4' is read as naming stk. 2, 3 or 4, and
-- 'aktivlovens § 22-25' (one §) counts like '§§'. These three details, which the SPEC leaves open, follow
-- genoptag's src/rules/ground.rs. 'tidligere fået / modtaget / opnået' does not require the word
-- danskbonus or dansktillæg to follow.
CREATE OR REPLACE TEMP MACRO names_program(t) AS regexp_matches(t,
    'introduktionsprogram|integrationsprogram|hjemrejseprogram|omfattet af programmet|§ 16([^0-9]|$)');
CREATE OR REPLACE TEMP MACRO names_not_self_supporting(t) AS regexp_matches(t,
    'ikke selvforsoergende|kontanthjaelp|uddannelseshjaelp|integrationsydelse|hjemrejseydelse|overgangsydelse|aktivlovens §§? 22-25([^0-9]|$)');
CREATE OR REPLACE TEMP MACRO names_no_exam(t) AS regexp_matches(t, 'ikke bestaaet|ingen danskproeve');
CREATE OR REPLACE TEMP MACRO names_prior_bonus(t) AS regexp_matches(t, 'tidligere (faaet|modtaget|opnaaet)');
CREATE OR REPLACE TEMP MACRO names_not_covered(t) AS regexp_matches(t,
    'ikke flygtning|ikke familiesammenfoert|§ 2, stk\. [234]([^0-9]|$)');

CREATE OR REPLACE TEMP VIEW records AS
SELECT
    1 + sum(1 + lf) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - lf AS line,
    * EXCLUDE (lf)
FROM (
    SELECT
        *,
        -- LF characters inside the record's fields (the lines it spans beyond its first)
        CASE WHEN contains(concat_ws('', *COLUMNS(*)), chr(10))
             THEN length(concat_ws('', *COLUMNS(*))) - length(replace(concat_ws('', *COLUMNS(*)), chr(10), ''))
             ELSE 0 END AS lf
    -- every column as text; columns beyond the canonical ones are read (their line breaks count) and ignored
    FROM read_csv('$input', header = true, all_varchar = true, delim = ',', quote = '"', escape = '"',
                  strict_mode = true)
);

-- Step 0 (SPEC §3.3): the benefit word, and the rejects of bonus-related rows.
CREATE OR REPLACE TEMP VIEW scoped AS
SELECT
    *,
    CASE WHEN benefit IN ('OTHER', 'IL22', 'AKTL22', 'DANSKTILLAEG') THEN benefit   -- fast path, same result
         ELSE CASE fold(benefit) WHEN 'il22' THEN 'IL22' WHEN 'aktl22' THEN 'AKTL22'
              WHEN 'dansktillaeg' THEN 'DANSKTILLAEG' WHEN 'other' THEN 'OTHER' END END AS b
FROM records;

CREATE OR REPLACE TEMP VIEW bonus AS
SELECT
    *,
    CASE WHEN fold(decision) IN ('granted', 'bevilget', 'bevilling', 'imoedekommet') THEN 'GRANTED'
         WHEN fold(decision) IN ('refused', 'afslag', 'afslaaet') THEN 'REFUSED' END AS d,
    pdate(decision_date) AS dec
FROM scoped
WHERE b IN ('IL22', 'AKTL22', 'DANSKTILLAEG');

-- Steps 1-6 for the IL22 refusals that are evaluated. (DuckDB inlines a CTE once per reference, so the
-- CTEs whose columns are used several times are MATERIALIZED: each expression is computed once.)
CREATE OR REPLACE TEMP VIEW il22 AS
WITH p AS MATERIALIZED (
    SELECT *, pdate(exam_date) AS exam_d FROM bonus
    WHERE b = 'IL22' AND d = 'REFUSED' AND dec IS NOT NULL AND nullif(trim(case_id), '') IS NOT NULL
),
f AS MATERIALIZED (
    SELECT
        line, case_id, dec,
        pdate(application_date) AS app,
        CASE WHEN contains(fold(appeal_outcome), 'hjemvis') THEN 'REMITTED'
             WHEN fold(appeal_outcome) IN ('remitted') THEN 'REMITTED'
             WHEN fold(appeal_outcome) IN ('upheld', 'stadfaestet') THEN 'UPHELD'
             WHEN fold(appeal_outcome) IN ('changed', 'aendret', 'ophaevet') THEN 'CHANGED'
             WHEN fold(appeal_outcome) IN ('dismissed', 'afvist') THEN 'DISMISSED' END AS appeal,
        CASE WHEN regexp_full_match(trim(municipality_code), '\d{3}') THEN 'kommune:' || trim(municipality_code)
             ELSE 'kommune:ukendt' END AS kommune,
        -- C1 person, at the application date
        CASE WHEN fold(person_category) IN ('refugee', 'flygtning', 'family_reunified', 'familiesammenfoert') THEN 'MET'
             WHEN fold(person_category) = 'other' THEN 'NOT_MET' ELSE 'UNKNOWN' END AS c1,
        -- C2 self-supporting, at the application date
        CASE yesno(public_assistance) WHEN 'NO' THEN 'MET' WHEN 'YES' THEN 'NOT_MET' ELSE 'UNKNOWN' END AS c2,
        -- C3 Danish test, passed in [2018-01-01, decision date]
        CASE WHEN fold(exam) IN ('pd2', 'pd3', 'studieproeve', 'fvu_laesning_2', 'fvu_laesning_3', 'fvu_laesning_4') THEN
                 CASE WHEN exam_d IS NULL THEN 'UNKNOWN'
                      WHEN exam_d < exam_from() OR exam_d > dec THEN 'NOT_MET'
                      ELSE 'MET' END
             WHEN fold(exam) IN ('pd1', 'fvu_laesning_1', 'none') THEN 'NOT_MET'
             ELSE 'UNKNOWN' END AS c3,
        -- C4 first time, at the decision date
        CASE yesno(prior_bonus) WHEN 'NO' THEN 'MET' WHEN 'YES' THEN 'NOT_MET' ELSE 'UNKNOWN' END AS c4,
        coalesce(yesno(program), 'UNKNOWN') AS p,
        -- step 5: reason codes (an unknown code counts as OTHER) and normalised text
        list_transform(string_split(coalesce(refusal_reasons, ''), '|'), lambda x: upper(trim(x))) AS codes,
        coalesce(norm(refusal_text), '') AS txt
    FROM p
),
g AS MATERIALIZED (
    SELECT
        * EXCLUDE (codes, txt),
        CASE WHEN list_contains(codes, 'PROGRAM') OR names_program(txt) THEN 'CITED'
             WHEN list_has_any(codes, ['NOT_SELF_SUPPORTING', 'NO_EXAM', 'PRIOR_BONUS', 'NOT_COVERED_PERSON'])
                  OR names_not_self_supporting(txt) OR names_no_exam(txt) OR names_prior_bonus(txt)
                  OR names_not_covered(txt) THEN 'NOT_CITED'
             ELSE 'UNKNOWN' END AS ground,
        CASE WHEN c1 = 'NOT_MET' OR c2 = 'NOT_MET' OR c3 = 'NOT_MET' OR c4 = 'NOT_MET' THEN 'FAILED'
             WHEN c1 = 'MET' AND c2 = 'MET' AND c3 = 'MET' AND c4 = 'MET' THEN 'MET'
             ELSE 'UNDETERMINED' END AS e
    FROM f
),
t AS (
    -- step 6, the table R1-R10
    SELECT
        *,
        CASE WHEN ground = 'CITED' THEN CASE e WHEN 'MET' THEN 'R1' WHEN 'UNDETERMINED' THEN 'R2' ELSE 'R3' END
             WHEN ground = 'NOT_CITED' THEN CASE e WHEN 'MET' THEN 'R4' ELSE 'R5' END
             WHEN p = 'YES' THEN CASE e WHEN 'MET' THEN 'R6' ELSE 'R7' END
             ELSE CASE e WHEN 'MET' THEN 'R8' WHEN 'UNDETERMINED' THEN 'R9' ELSE 'R10' END
        END AS table_rule
    FROM g
),
tc AS (
    SELECT
        *,
        CASE WHEN table_rule IN ('R1', 'R2', 'R3', 'R8') THEN 'REOPEN'
             WHEN table_rule IN ('R4', 'R6', 'R9') THEN 'REVIEW'
             ELSE 'NOT_AFFECTED' END AS table_class
    FROM t
),
steps AS MATERIALIZED (
    SELECT
        *,
        CASE
            -- step 1, scope: before IL § 22 entered into force
            WHEN dec < il22_in_force() THEN ['OUT_OF_SCOPE', 'SCOPE']
            -- step 2, appeal
            WHEN appeal IN ('CHANGED', 'REMITTED') THEN ['NOT_AFFECTED', 'APPEAL']
            -- step 3, regime
            WHEN app > dec THEN ['REVIEW', 'REGIME']
            WHEN app >= amended_from() THEN
                CASE WHEN ground = 'CITED' AND p = 'YES' THEN ['REVIEW', 'REGIME'] ELSE ['NOT_AFFECTED', 'REGIME'] END
            WHEN app IS NULL AND dec >= amended_from() THEN
                CASE WHEN table_class IN ('REOPEN', 'REVIEW') THEN ['REVIEW', 'REGIME'] ELSE ['NOT_AFFECTED', 'REGIME'] END
            -- steps 4-6
            ELSE [table_class, table_rule]
        END AS cr
    FROM tc
)
SELECT
    line, case_id, cr[1] AS classification, cr[2] AS rule,
    CASE WHEN cr[1] = 'REVIEW' THEN 'ASSESS'
         WHEN cr[1] = 'REOPEN' THEN CASE WHEN e = 'MET' THEN 'GRANT' WHEN e = 'FAILED' THEN 'REFUSE' ELSE 'ASSESS' END
         ELSE '' END AS expected_outcome,
    CASE WHEN appeal = 'UPHELD' THEN 'ankestyrelsen' ELSE kommune END AS decided_by,
    -- the inputs to the table, empty on rows decided before step 4 (as in genoptag's outputs)
    CASE WHEN cr[2] LIKE 'R%' OR cr[2] = 'REGIME' AND app IS NULL THEN ground END AS ground,
    CASE WHEN cr[2] LIKE 'R%' OR cr[2] = 'REGIME' AND app IS NULL THEN c1 END AS c1,
    CASE WHEN cr[2] LIKE 'R%' OR cr[2] = 'REGIME' AND app IS NULL THEN c2 END AS c2,
    CASE WHEN cr[2] LIKE 'R%' OR cr[2] = 'REGIME' AND app IS NULL THEN c3 END AS c3,
    CASE WHEN cr[2] LIKE 'R%' OR cr[2] = 'REGIME' AND app IS NULL THEN c4 END AS c4,
    CASE WHEN cr[2] LIKE 'R%' OR cr[2] = 'REGIME' AND app IS NULL THEN p END AS program
FROM steps;

-- Every row with its classification (not needed for the lists; used by scripts/check_decide.sh).
CREATE OR REPLACE TEMP VIEW decided AS
SELECT line, case_id, classification, rule, expected_outcome, decided_by FROM il22
UNION ALL
SELECT line, case_id,
    CASE WHEN b IS NULL OR b <> 'OTHER' AND (d IS NULL OR dec IS NULL OR nullif(trim(case_id), '') IS NULL)
         THEN 'REJECTED' ELSE 'OUT_OF_SCOPE' END,
    CASE WHEN b IS NULL THEN 'UNKNOWN_VALUE:benefit'
         WHEN b = 'OTHER' THEN 'SCOPE'
         WHEN nullif(trim(case_id), '') IS NULL THEN 'EMPTY_REQUIRED:case_id'
         WHEN d IS NULL THEN 'UNKNOWN_VALUE:decision'
         WHEN dec IS NULL THEN 'UNREADABLE_DATE:decision_date'
         ELSE 'SCOPE' END,
    '', ''
FROM (SELECT *, NULL AS d, NULL AS dec FROM scoped WHERE b IS NULL OR b = 'OTHER'
      UNION ALL BY NAME
      SELECT * FROM bonus WHERE NOT coalesce(b = 'IL22' AND d = 'REFUSED' AND dec IS NOT NULL
                                              AND nullif(trim(case_id), '') IS NOT NULL, false));

-- The lists that scripts/bench compares with genoptag's reopen.csv + review.csv.
COPY (
    SELECT line, case_id, classification, rule, expected_outcome, decided_by, ground, c1, c2, c3, c4, program
    FROM il22
    WHERE classification IN ('REOPEN', 'REVIEW')
    ORDER BY line
) TO '$output' (HEADER, DELIMITER ',');
