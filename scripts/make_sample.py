#!/usr/bin/env python3
"""Writes the sample export `fixtures/sample_export.csv` and its key `fixtures/sample_expected.csv`.

Run from the repository root:  python3 scripts/make_sample.py

The export looks like a real municipal export of benefit decisions (SPEC §3): the canonical columns in
canonical order plus a `sagsbehandler` column (caseworker initials) that the scanner must ignore;
mostly other benefits, some danskbonus under aktivloven and dansktillæg, danskbonus grants under
integrationsloven § 22, and refusals of it covering every rule R1-R10, both regimes, every appeal
outcome, a few deliberate cross-row cases, one identical and one conflicting duplicate, and a few bad
rows. Everything comes from one fixed seed: the same script writes the same bytes.

Each IL22 refusal is *built from an intended result* (say "R3: the programme is cited and one condition
fails"): the fields are chosen to produce it, and the intended classification and rule are written to
`sample_expected.csv`. Nothing here re-implements the scanner; the key is the builder's intent, to be
checked against the scanner by hand and by test. The key holds every IL22 refusal and every reject,
with the physical line on which its record starts (the header is line 1).

Standard library only.
"""

import csv
import datetime as dt
import io
import os
import random

SEED = 20210609
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_EXPORT = os.path.join('fixtures', 'sample_export.csv')          # relative to ROOT
OUT_EXPECTED = os.path.join('fixtures', 'sample_expected.csv')

CANONICAL = ['case_id', 'cpr', 'municipality_code', 'benefit', 'decision', 'application_date',
             'decision_date', 'refusal_reasons', 'refusal_text', 'person_category', 'program',
             'public_assistance', 'exam', 'exam_date', 'prior_bonus', 'appeal_outcome']
HEADER = CANONICAL + ['sagsbehandler']

# Municipality codes from shared/data/kommuner.csv, with the abbreviations used in case numbers.
MUNICIPALITIES = {
    '101': 'KBH', '147': 'FRB', '167': 'HVI', '169': 'HTA', '265': 'ROS', '330': 'SLA', '370': 'NAE',
    '461': 'ODE', '561': 'ESB', '607': 'FRC', '615': 'HOR', '621': 'KOL', '630': 'VEJ', '657': 'HER',
    '730': 'RAN', '751': 'AAR', '791': 'VIB', '851': 'AAL',
}
CODES = sorted(MUNICIPALITIES)
CASEWORKERS = ['MKJ', 'ALH', 'SBN', 'TP', 'LKA', 'HRO', 'JN', 'BEM', 'CFD', 'RKS', 'NAA', 'ØLS']

# The dates of SPEC §2, used only to place the constructed cases on the right side of each.
EXAM_FROM = dt.date(2018, 1, 1)
IL22_IN_FORCE = dt.date(2018, 7, 1)
AMENDED_FROM = dt.date(2021, 6, 9)

QUALIFYING = ['PD2', 'PD2', 'PD2', 'PD3', 'STUDIEPROEVE', 'FVU_LAESNING_2', 'FVU_LAESNING_3', 'FVU_LAESNING_4']

# Refusal texts, by the ground they name (SPEC §4 step 5). Some hold commas and quotes.
TEXT_PROGRAM = [
    'Du opfylder ikke betingelsen om at være eller have været omfattet af introduktionsprogrammet, '
    'jf. integrationslovens § 16.',
    'Afslag, da du ikke er omfattet af selvforsørgelses- og hjemrejseprogrammet.',
    'Kommunen har lagt vægt på, at du ikke har deltaget i integrationsprogrammet.',
    'Du er ikke "omfattet af programmet" efter §16, og du kan derfor ikke få danskbonus.',
]
TEXT_PROGRAM_MULTILINE = ('Afslag på danskbonus.\n'
                          'Du er ikke omfattet af introduktionsprogrammet, jf. integrationslovens § 16.')
TEXT_OTHER_GROUND = {
    'NO_EXAM': ['Du har ikke bestået Prøve i Dansk 2, FVU-læsning trin 2 eller en tilsvarende prøve.',
                'Der foreligger ingen danskprøve.'],
    'NOT_SELF_SUPPORTING': ['Du modtog kontanthjælp på ansøgningstidspunktet og er derfor ikke selvforsørgende.',
                            'Du modtager selvforsørgelses- og hjemrejseydelse, jf. aktivlovens §§ 22-25.'],
    'PRIOR_BONUS': ['Du har tidligere fået danskbonus efter aktivloven.'],
    'NOT_COVERED_PERSON': ['Du er ikke flygtning eller familiesammenført, jf. integrationslovens § 2, stk. 2-4.'],
}
TEXT_NO_GROUND = ['Betingelserne i integrationslovens § 22 er ikke opfyldt.', 'Se vedlagte afgørelse.',
                  'Ansøgningen er gennemgået, og betingelserne er ikke opfyldt.']
TEXT_OTHER_BENEFIT = [
    'Afslag på boligstøtte, da husstandens indkomst er for høj.',
    'Afslag på enkeltydelse efter aktivlovens § 81.',
    'Du opfylder ikke opholdskravet, jf. aktivlovens § 11, stk. 3.',
    'Afslag på hjælp til tandbehandling; se "Beregning af egenbetaling".',
    'Afslag på særlig støtte, da udgiften ikke er nødvendig.',
]

# What each rule of the table classifies as (SPEC §4 step 6).
RULE_CLASS = {'R1': 'REOPEN', 'R2': 'REOPEN', 'R3': 'REOPEN', 'R4': 'REVIEW', 'R5': 'NOT_AFFECTED',
              'R6': 'REVIEW', 'R7': 'NOT_AFFECTED', 'R8': 'REOPEN', 'R9': 'REVIEW', 'R10': 'NOT_AFFECTED'}


class Sample:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.cprs = set()
        self.case_ids = set()
        self.rows = []          # (fields dict, expectation or None)

    # ------------------------------------------------------------------ small makers
    def date_between(self, a, b):
        return a + dt.timedelta(days=self.rng.randint(0, (b - a).days))

    def cpr(self, hyphen=None):
        while True:
            born = self.date_between(dt.date(1955, 1, 1), dt.date(2003, 12, 31))
            digits = born.strftime('%d%m%y') + '%04d' % self.rng.randint(1, 9999)
            if digits not in self.cprs:
                self.cprs.add(digits)
                break
        if hyphen is None:
            hyphen = self.rng.random() < 0.06
        return digits[:6] + '-' + digits[6:] if hyphen else digits

    def case_id(self, code, decided):
        while True:
            cid = '%d-%04d-%s' % (decided.year, self.rng.randint(1, 9999), MUNICIPALITIES[code])
            if cid not in self.case_ids:
                self.case_ids.add(cid)
                return cid

    def add(self, fields, expect=None):
        row = {k: '' for k in HEADER}
        row.update(fields)
        row['sagsbehandler'] = self.rng.choice(CASEWORKERS)
        self.rows.append((row, expect))
        return row

    def base(self, benefit, decision, decided, applied='auto', code=None, cpr=None):
        """`applied`: a date, None for an empty application date, or 'auto' for 1 week to 3 months
        before the decision."""
        code = code or self.rng.choice(CODES)
        if applied == 'auto':
            applied = decided - dt.timedelta(days=self.rng.randint(7, 90))
        return {
            'case_id': self.case_id(code, decided), 'cpr': cpr or self.cpr(), 'municipality_code': code,
            'benefit': benefit, 'decision': decision,
            'application_date': applied.isoformat() if applied else '', 'decision_date': decided.isoformat(),
        }

    # ------------------------------------------------------------------ other benefits and bonus rows
    def other_benefit(self):
        decided = self.date_between(dt.date(2015, 1, 1), dt.date(2023, 12, 31))
        granted = self.rng.random() < 0.6
        f = self.base('OTHER', 'GRANTED' if granted else 'REFUSED', decided)
        if not granted:
            f['refusal_text'] = self.rng.choice(TEXT_OTHER_BENEFIT)
        if self.rng.random() < 0.3:
            f['person_category'] = self.rng.choice(['REFUGEE', 'FAMILY_REUNIFIED', 'OTHER'])
        if self.rng.random() < 0.3:
            f['public_assistance'] = self.rng.choice(['YES', 'NO'])
        return self.add(f)

    def aktl22(self, granted, decided=None, cpr=None):
        decided = decided or self.date_between(dt.date(2018, 7, 1), dt.date(2023, 6, 30))
        f = self.base('AKTL22', 'GRANTED' if granted else 'REFUSED', decided, cpr=cpr)
        f.update(self.eligible(decided))
        if not granted:
            f['refusal_reasons'] = 'NO_EXAM'
            f['refusal_text'] = TEXT_OTHER_GROUND['NO_EXAM'][0]
            f['exam'], f['exam_date'] = 'PD1', ''
        f['public_assistance'] = 'YES'       # aktivloven's bonus goes to recipients of help
        return self.add(f)

    def dansktillaeg(self, granted):
        decided = self.date_between(dt.date(2014, 1, 1), dt.date(2018, 6, 30))
        f = self.base('DANSKTILLAEG', 'GRANTED' if granted else 'REFUSED', decided)
        f['person_category'] = self.rng.choice(['REFUGEE', 'FAMILY_REUNIFIED'])
        f['exam'] = 'PD2' if granted else 'NONE'
        if granted:
            f['exam_date'] = self.date_between(decided - dt.timedelta(days=400), decided).isoformat()
        else:
            f['refusal_reasons'] = 'NO_EXAM'
            f['refusal_text'] = TEXT_OTHER_GROUND['NO_EXAM'][1]
        return self.add(f)

    def il22_grant(self, decided=None, cpr=None):
        decided = decided or self.date_between(dt.date(2018, 7, 1), dt.date(2023, 6, 30))
        f = self.base('IL22', 'GRANTED', decided, cpr=cpr)
        f.update(self.eligible(decided))
        return self.add(f)

    # ------------------------------------------------------------------ IL22 refusals, by intent
    def eligible(self, decided):
        """The four conditions all met at `decided` (for a decision before 2018 the test is simply
        one passed before it)."""
        earliest = max(EXAM_FROM, decided - dt.timedelta(days=700))
        if earliest > decided:
            earliest = decided - dt.timedelta(days=300)
        return {
            'person_category': self.rng.choice(['REFUGEE', 'REFUGEE', 'FAMILY_REUNIFIED']),
            'public_assistance': 'NO',
            'exam': self.rng.choice(QUALIFYING),
            'exam_date': self.date_between(earliest, decided).isoformat(),
            'prior_bonus': 'NO',
        }

    def make_undetermined(self, f):
        """One condition unknown, none failed."""
        which = self.rng.choice(['person', 'assistance', 'equivalent', 'no_exam_date', 'prior'])
        if which == 'person':
            f['person_category'] = ''
        elif which == 'assistance':
            f['public_assistance'] = ''
        elif which == 'equivalent':
            f['exam'] = 'EQUIVALENT'
        elif which == 'no_exam_date':
            f['exam_date'] = ''
        else:
            f['prior_bonus'] = ''

    def make_failed(self, f, decided, which=None):
        """One condition not met; returns the reason code that names it."""
        which = which or self.rng.choice(['person', 'assistance', 'exam', 'old_exam', 'prior'])
        if which == 'person':
            f['person_category'] = 'OTHER'
            return 'NOT_COVERED_PERSON'
        if which == 'assistance':
            f['public_assistance'] = 'YES'
            return 'NOT_SELF_SUPPORTING'
        if which == 'exam':
            f['exam'] = self.rng.choice(['PD1', 'FVU_LAESNING_1', 'NONE'])
            f['exam_date'] = '' if f['exam'] == 'NONE' else self.date_between(EXAM_FROM, decided).isoformat()
            return 'NO_EXAM'
        if which == 'old_exam':
            f['exam'] = 'PD2'
            f['exam_date'] = self.date_between(dt.date(2015, 1, 1), dt.date(2017, 12, 31)).isoformat()
            return 'NO_EXAM'
        f['prior_bonus'] = 'YES'
        return 'PRIOR_BONUS'

    def cite_programme(self, f, multiline=False):
        style = self.rng.choice(['code', 'text', 'both'])
        if style in ('code', 'both'):
            f['refusal_reasons'] = 'PROGRAM'
        if style in ('text', 'both') or multiline:
            f['refusal_text'] = TEXT_PROGRAM_MULTILINE if multiline else self.rng.choice(TEXT_PROGRAM)

    def cite_other(self, f, ground):
        style = self.rng.choice(['code', 'text', 'both'])
        if style in ('code', 'both'):
            f['refusal_reasons'] = ground
        if style in ('text', 'both'):
            f['refusal_text'] = self.rng.choice(TEXT_OTHER_GROUND[ground])

    def cite_nothing(self, f):
        style = self.rng.choice(['empty', 'other', 'text'])
        if style == 'other':
            f['refusal_reasons'] = 'OTHER'
        elif style == 'text':
            f['refusal_text'] = self.rng.choice(TEXT_NO_GROUND)

    def refusal(self, rule, decided=None, applied='auto', program=None, cpr=None, appeal='',
                multiline=False, expect=None, case_id=None, code=None):
        """An IL22 refusal built so that, under the former provision, the table gives `rule`.
        `expect` overrides the (classification, rule) written to the key, for cases that a step other
        than the table decides."""
        if decided is None:
            decided = self.date_between(dt.date(2018, 7, 1), dt.date(2021, 5, 31))
        f = self.base('IL22', 'REFUSED', decided, applied=applied, code=code, cpr=cpr)
        if case_id:
            f['case_id'] = case_id
        f.update(self.eligible(decided))
        if program is None:
            if rule in ('R6', 'R7'):
                program = 'YES'
            elif rule in ('R8', 'R9', 'R10'):
                program = self.rng.choice(['NO', 'NO', ''])
            else:
                program = self.rng.choice(['NO', 'NO', '', 'YES'])
        f['program'] = program
        if rule in ('R1', 'R2', 'R3'):
            self.cite_programme(f, multiline)
            if rule == 'R2':
                self.make_undetermined(f)
            elif rule == 'R3':
                self.make_failed(f, decided)
        elif rule == 'R4':
            self.cite_other(f, self.rng.choice(sorted(TEXT_OTHER_GROUND)))
        elif rule == 'R5':
            if self.rng.random() < 0.7:
                self.cite_other(f, self.make_failed(f, decided))   # the refusal names the failed condition
            else:
                self.cite_other(f, 'NO_EXAM')
                self.make_undetermined(f)
        elif rule in ('R6', 'R8'):
            self.cite_nothing(f)
        elif rule in ('R7', 'R10'):
            self.cite_nothing(f)
            if rule == 'R7' and self.rng.random() < 0.5:
                self.make_undetermined(f)
            else:
                self.make_failed(f, decided)
        elif rule == 'R9':
            self.cite_nothing(f)
            self.make_undetermined(f)
        else:
            raise ValueError(rule)
        f['appeal_outcome'] = appeal
        return self.add(f, expect or (RULE_CLASS[rule], rule))

    # ------------------------------------------------------------------ the export
    def build(self):
        rng = self.rng
        # Former provision, decided by the table (step 6).
        plan = (['R1'] * 4 + ['R2'] * 3 + ['R3'] * 3 + ['R4'] * 3 + ['R5'] * 4 + ['R6'] * 2 + ['R7'] * 2
                + ['R8'] * 3 + ['R9'] * 2 + ['R10'] * 3)
        for rule in plan:
            self.refusal(rule, appeal=rng.choice(['', '', '', '', 'UPHELD', 'DISMISSED']))
        self.refusal('R1', appeal='UPHELD')
        self.refusal('R1', appeal='DISMISSED')
        self.refusal('R1', program='NO', multiline=True)
        # No application date, decided before 9 June 2021: the former provision, so the table decides.
        self.refusal('R8', applied=None, decided=self.date_between(dt.date(2019, 1, 1), dt.date(2021, 6, 8)))

        # Step 3: the amended § 22 (applications from 9 June 2021), and the other regime outcomes.
        for rule in ['R1', 'R8', 'R4']:
            applied = self.date_between(AMENDED_FROM, dt.date(2023, 3, 31))
            decided = applied + dt.timedelta(days=rng.randint(10, 80))
            self.refusal(rule, decided=decided, applied=applied, program=rng.choice(['NO', '']),
                         expect=('NOT_AFFECTED', 'REGIME'))
        self.refusal('R1', decided=dt.date(2021, 7, 15), applied=AMENDED_FROM, program='NO',
                     expect=('NOT_AFFECTED', 'REGIME'))                    # applied on the day itself
        self.refusal('R1', decided=dt.date(2021, 7, 12), applied=dt.date(2021, 6, 8), program='NO')  # the day before
        applied = self.date_between(AMENDED_FROM, dt.date(2022, 12, 31))
        self.refusal('R1', decided=applied + dt.timedelta(days=30), applied=applied, program='YES',
                     expect=('REVIEW', 'REGIME'))                           # PROGRAM_CITED_BUT_OFFERED
        self.refusal('R1', decided=self.date_between(AMENDED_FROM, dt.date(2022, 12, 31)), applied=None,
                     program='NO', expect=('REVIEW', 'REGIME'))             # APPLICATION_DATE_MISSING
        self.refusal('R5', decided=self.date_between(AMENDED_FROM, dt.date(2022, 12, 31)), applied=None,
                     expect=('NOT_AFFECTED', 'REGIME'))                     # APPLICATION_DATE_MISSING
        decided = self.date_between(dt.date(2019, 1, 1), dt.date(2020, 12, 31))
        self.refusal('R1', decided=decided, applied=decided + dt.timedelta(days=rng.randint(5, 60)),
                     expect=('REVIEW', 'REGIME'))                           # APPLICATION_AFTER_DECISION

        # Step 1: refusals before danskbonus under § 22 existed.
        for _ in range(2):
            decided = self.date_between(dt.date(2017, 3, 1), dt.date(2018, 6, 30))
            self.refusal('R1', decided=decided, expect=('OUT_OF_SCOPE', 'SCOPE'))

        # Step 2: appeals that decide.
        for _ in range(2):
            self.refusal('R1', appeal='CHANGED', expect=('NOT_AFFECTED', 'APPEAL'))
        person = self.cpr(hyphen=False)
        decided = self.date_between(dt.date(2019, 1, 1), dt.date(2020, 6, 30))
        self.refusal('R1', decided=decided, cpr=person, appeal='REMITTED', expect=('NOT_AFFECTED', 'APPEAL'))
        self.refusal('R5', decided=decided + dt.timedelta(days=rng.randint(60, 200)), cpr=person)  # the new decision
        self.refusal('R1', appeal='REMITTED', expect=('REVIEW', 'APPEAL'))  # REMITTED_WITHOUT_NEW_DECISION

        # Step 7: a few deliberate meetings of the same person.
        person = self.cpr(hyphen=False)       # an earlier aktivloven grant makes C4 not met: R8 becomes R10
        granted = self.date_between(dt.date(2018, 8, 1), dt.date(2019, 6, 30))
        self.aktl22(True, decided=granted, cpr=person)
        self.refusal('R8', decided=granted + dt.timedelta(days=rng.randint(100, 400)), cpr=person,
                     expect=('NOT_AFFECTED', 'R10'))                        # PRIOR_GRANT_FOUND
        person = self.cpr(hyphen=False)       # a later § 22 grant: REOPEN becomes REVIEW
        refused = self.date_between(dt.date(2018, 9, 1), dt.date(2020, 6, 30))
        self.refusal('R1', decided=refused, cpr=person, expect=('REVIEW', 'R1'))  # LATER_GRANTED
        self.il22_grant(decided=refused + dt.timedelta(days=rng.randint(120, 500)), cpr=person)
        person = self.cpr(hyphen=False)       # two refusals, both reopened
        first = self.date_between(dt.date(2018, 9, 1), dt.date(2019, 12, 31))
        self.refusal('R1', decided=first, cpr=person, program='NO')          # SEVERAL_REFUSALS
        self.refusal('R8', decided=first + dt.timedelta(days=rng.randint(150, 400)), cpr=person)
        shared = []                           # other benefits of a refused person: no effect
        for rule in ['R1', 'R4']:
            shared.append(self.refusal(rule)['cpr'])

        # Duplicates (SPEC §3.3): an identical copy (placed after the shuffle, below), and two differing
        # rows with one case number, the second a corrected re-registration: each is REVIEW.
        original = self.refusal('R1', program='NO')
        copy = dict(original)
        first = self.refusal('R1', program='NO', expect=('REVIEW', 'R1'))
        self.refusal('R4', cpr=first['cpr'], case_id=first['case_id'], code=first['municipality_code'],
                     decided=dt.date.fromisoformat(first['decision_date']), expect=('REVIEW', 'R4'))

        # Grants and other bonus decisions.
        for _ in range(14):
            self.il22_grant()
        for i in range(16):
            self.aktl22(granted=i % 4 != 0)
        for i in range(8):
            self.dansktillaeg(granted=i % 3 != 0)

        # Mostly other benefits.
        for _ in range(222):
            self.other_benefit()
        for cpr in shared:
            row = self.other_benefit()
            row['cpr'] = cpr

        rng.shuffle(self.rows)
        # The identical copy comes after its original, somewhere later in the file.
        at = next(i for i, (r, _) in enumerate(self.rows) if r is original)
        copy['sagsbehandler'] = rng.choice(CASEWORKERS)  # an extra column: does not make it differ
        self.rows.insert(rng.randint(at + 1, len(self.rows)), (copy, ('REOPEN', 'R1')))
        # A few Danish value words where a system might write them.
        for r, _ in self.rows:
            if r['benefit'] == 'OTHER' and rng.random() < 0.15:
                r['decision'] = {'GRANTED': 'Bevilget', 'REFUSED': 'Afslag'}[r['decision']]

    def bad_rows(self):
        """Rows that must be rejected, as raw lines or fields, with their reject reason."""
        rng = self.rng
        bad = []
        # A truncated line: wrong number of fields.
        f = self.base('OTHER', 'GRANTED', self.date_between(dt.date(2016, 1, 1), dt.date(2022, 12, 31)))
        fields = [f.get(k, '') for k in HEADER][:13]
        bad.append((','.join(fields) + '\n', f['case_id'], 'REJECT:FIELD_COUNT'))
        # A refusal text with an unquoted comma: one field too many.
        f = self.base('IL22', 'REFUSED', self.date_between(dt.date(2019, 1, 1), dt.date(2020, 12, 31)))
        f.update(self.eligible(dt.date.fromisoformat(f['decision_date'])))
        f['refusal_text'] = 'Du er ikke omfattet af introduktionsprogrammet, jf. § 16.'
        f['sagsbehandler'] = rng.choice(CASEWORKERS)
        bad.append((','.join(f.get(k, '') for k in HEADER) + '\n', f['case_id'], 'REJECT:FIELD_COUNT'))

        def il22(**over):
            decided = self.date_between(dt.date(2019, 1, 1), dt.date(2020, 12, 31))
            g = self.base('IL22', 'REFUSED', decided)
            g.update(self.eligible(decided))
            g['refusal_reasons'] = 'PROGRAM'
            g['sagsbehandler'] = rng.choice(CASEWORKERS)
            g.update(over)
            return g
        for g, reason in [
            (il22(decision_date='15-03-20'), 'REJECT:UNREADABLE_DATE'),        # two-digit year
            (il22(decision_date='31.11.2020'), 'REJECT:UNREADABLE_DATE'),      # no such day
            (il22(case_id=''), 'REJECT:EMPTY_REQUIRED'),
            (il22(decision='Under behandling'), 'REJECT:UNKNOWN_VALUE'),
        ]:
            bad.append((record(g), g['case_id'], reason))
        decided = self.date_between(dt.date(2019, 1, 1), dt.date(2022, 12, 31))
        g = self.base('AKTL22', 'Afvist', decided)
        g['sagsbehandler'] = rng.choice(CASEWORKERS)
        bad.append((record(g), g['case_id'], 'REJECT:UNKNOWN_VALUE'))
        return bad


def record(fields):
    buf = io.StringIO()
    csv.writer(buf, lineterminator='\n').writerow([fields.get(k, '') for k in HEADER])
    return buf.getvalue()


def main():
    os.chdir(ROOT)
    s = Sample(SEED)
    s.build()
    records = [(record(r), r['case_id'], expect, r) for r, expect in s.rows]
    for raw, cid, reason in s.bad_rows():
        at = s.rng.randint(1, len(records))
        records.insert(at, (raw, cid, (reason, ''), None))

    expected = []
    line = 2                                   # the header is line 1
    with open(OUT_EXPORT, 'w', encoding='utf-8', newline='') as out:
        out.write(record({k: k for k in HEADER}))
        for raw, cid, expect, row in records:
            out.write(raw)
            is_refusal = row is not None and row['benefit'] == 'IL22' and row['decision'] == 'REFUSED'
            if expect is not None and (is_refusal or row is None):
                expected.append((cid, line, expect[0], expect[1]))
            elif is_refusal:
                raise AssertionError('an IL22 refusal without an intended result: %s' % cid)
            line += raw.count('\n')

    with open(OUT_EXPECTED, 'w', encoding='utf-8', newline='') as out:
        w = csv.writer(out, lineterminator='\n')
        w.writerow(['case_id', 'line', 'expected_classification', 'expected_rule'])
        w.writerows(expected)
    print('wrote %s (%d records, %d lines) and %s (%d rows)'
          % (OUT_EXPORT, len(records), line - 1, OUT_EXPECTED, len(expected)))


if __name__ == '__main__':
    main()
