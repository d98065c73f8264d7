//! Pass 2 of the scan: the spilled bonus-related rows read back in batches, classified with
//! their settled facts in parallel, and written to the lists in input order.

use super::*;

/// The lists pass 2 writes.
pub(super) struct Lists<'a> {
    pub(super) audit: CsvOut,
    pub(super) reopen: CsvOut,
    pub(super) review: CsvOut,
    /// The lists per authority, with `--split-by-authority`.
    pub(super) split: Option<SplitLists<'a>>,
}

/// One finished output row.
struct ListRow {
    /// The row's fields; emptied once encoded unless `--split-by-authority` writes them again.
    fields: Vec<String>,
    /// `fields` as the lists write them.
    encoded: Vec<u8>,
    case_id: String,
    classification: Classification,
    outcome: Option<rules::Outcome>,
    rule: Rule,
    duplicate: bool,
    decided_by: String,
    authority: Authority,
    year: Option<i32>,
    bonus: bool,
}

/// Rows per batch of pass 2 at most.
const PASS2_BATCH: usize = 2048;

pub(super) fn pass2(
    cfg: &ScanConfig,
    spill_path: &std::path::Path,
    names: &[String],
    index: &Index,
    lists: &mut Lists<'_>,
    tally: &mut Tally,
) -> Result<(), Error> {
    let file = std::fs::File::open(spill_path).map_err(|e| Error::output(spill_path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .buffer_capacity(256 * 1024)
        .from_reader(BufReader::new(file));
    // Every spilled row is a whole row to classify and write: a smaller batch than pass 1's
    // keeps the rows in flight (and memory) small while both threads stay busy.
    let batch_size = cfg.batch_size.min(PASS2_BATCH);
    let mut next_bonus = 0u32;
    let mut current = Spilled::new(batch_size);
    let mut next = Spilled::new(batch_size);
    let mut made: Vec<ListRow> = Vec::with_capacity(batch_size);
    let mut to_write: Vec<ListRow> = Vec::with_capacity(batch_size);
    current.read(&mut reader, &mut next_bonus, spill_path)?;
    // Three things at once: the next batch is read, this one classified, the last one written.
    loop {
        let (read, ((), written)) = rayon::join(
            || next.read(&mut reader, &mut next_bonus, spill_path),
            || {
                rayon::join(
                    || current.classify(cfg, names, index, &mut made),
                    || write_rows(&mut to_write, lists, tally),
                )
            },
        );
        read?;
        written?;
        if made.is_empty() {
            return Ok(());
        }
        std::mem::swap(&mut current, &mut next);
        std::mem::swap(&mut made, &mut to_write);
    }
}

/// A batch of spilled rows, each with its bonus-row number (none for another benefit's row).
struct Spilled {
    records: Vec<StringRecord>,
    numbers: Vec<Option<u32>>,
    len: usize,
}

impl Spilled {
    fn new(size: usize) -> Spilled {
        Spilled {
            records: (0..size).map(|_| StringRecord::new()).collect(),
            numbers: Vec::with_capacity(size),
            len: 0,
        }
    }

    fn read(
        &mut self,
        reader: &mut csv::Reader<BufReader<std::fs::File>>,
        next_bonus: &mut u32,
        spill_path: &std::path::Path,
    ) -> Result<(), Error> {
        self.len = 0;
        self.numbers.clear();
        while self.len < self.records.len()
            && reader
                .read_record(&mut self.records[self.len])
                .map_err(|e| Error::output(spill_path, std::io::Error::other(e.to_string())))?
        {
            if &self.records[self.len][0] == "B" {
                self.numbers.push(Some(*next_bonus));
                *next_bonus += 1;
            } else {
                self.numbers.push(None);
            }
            self.len += 1;
        }
        Ok(())
    }

    /// Classifies the batch in parallel into `rows`, each encoded as the lists write it.
    fn classify(&self, cfg: &ScanConfig, names: &[String], index: &Index, rows: &mut Vec<ListRow>) {
        self.records[..self.len]
            .par_iter()
            .zip(self.numbers.par_iter())
            .map_init(
                || RowEncoder::new(cfg.excel),
                |encoder, (rec, number)| {
                    let mut row = list_row(rec, *number, names, index, &cfg.vocab, &cfg.patterns);
                    if let Some(key) = &cfg.pseudonymize {
                        row.fields[3] = key.pseudonym(&row.fields[3]);
                    }
                    encoder.encode_into(&row.fields, &mut row.encoded);
                    // Only the per-authority lists write the fields again: otherwise they are
                    // let go here, in parallel, not by the thread that writes.
                    if cfg.split_by_authority {
                        row.case_id = row.fields[2].clone();
                    } else {
                        row.case_id = std::mem::take(&mut row.fields[2]);
                        row.fields = Vec::new();
                    }
                    row
                },
            )
            .collect_into_vec(rows);
    }
}

/// Counts and writes classified rows, in order.
fn write_rows(
    rows: &mut Vec<ListRow>,
    lists: &mut Lists<'_>,
    tally: &mut Tally,
) -> Result<(), Error> {
    for mut row in rows.drain(..) {
        if row.bonus {
            tally.classified(row.classification, row.rule);
        }
        if row.duplicate {
            tally.counts.duplicates += 1;
        } else {
            let year = row.year.map(|y| tally.years.entry(y).or_default());
            if matches!(
                row.classification,
                Classification::Reopen | Classification::Review
            ) {
                let counts = match tally.by_authority.get_mut(&row.decided_by) {
                    Some(counts) => counts,
                    None => tally
                        .by_authority
                        .entry(row.decided_by.clone())
                        .or_default(),
                };
                if row.classification == Classification::Reopen {
                    counts.reopen += 1;
                } else {
                    counts.review += 1;
                }
                tally.listed.push(ListedCase {
                    case_id: std::mem::take(&mut row.case_id),
                    decided_by: std::mem::take(&mut row.decided_by),
                    classification: row.classification,
                    rule: row.rule,
                    expected_outcome: row.outcome,
                });
            }
            match row.classification {
                Classification::Reopen => {
                    if let Some(y) = year {
                        y.reopen += 1;
                    }
                    lists.reopen.write_encoded(&row.encoded)?;
                    if let Some(split) = &mut lists.split {
                        split.write(List::Reopen, &row.authority, &row.fields)?;
                    }
                }
                Classification::Review => {
                    if let Some(y) = year {
                        y.review += 1;
                    }
                    lists.review.write_encoded(&row.encoded)?;
                    if let Some(split) = &mut lists.split {
                        split.write(List::Review, &row.authority, &row.fields)?;
                    }
                }
                Classification::NotAffected => {
                    if let Some(y) = year {
                        y.not_affected += 1;
                    }
                }
                Classification::OutOfScope => {}
            }
        }
        lists.audit.write_encoded(&row.encoded)?;
    }
    Ok(())
}

fn list_row(
    rec: &StringRecord,
    number: Option<u32>,
    names: &[String],
    index: &Index,
    vocab: &Vocabulary,
    patterns: &Patterns,
) -> ListRow {
    let source = rec
        .get(1)
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let line = rec.get(2).unwrap_or_default();
    let field = |col: Col| rec.get(3 + col as usize).unwrap_or_default();
    debug_assert_eq!(rec.len(), 3 + COLUMN_COUNT);
    let parsed = number.map(|n| (n, record::parse(|col| Cow::Borrowed(field(col)), vocab)));
    let (case, eval, duplicate) = match parsed {
        Some((n, Parsed::Bonus(case))) => {
            let facts = index.facts(n, names);
            let eval = rules::evaluate(&case, patterns, &facts);
            (Some(case), eval, index.is_duplicate(n))
        }
        _ => {
            // A row of another benefit (only with --audit-all): out of scope, not validated.
            let eval = Evaluation {
                classification: Classification::OutOfScope,
                outcome: None,
                rule: Rule::Scope,
                finding: None,
                warnings: Vec::new(),
                decided_by: Authority::of(field(Col::MunicipalityCode), None),
                path: Path::NotIl22,
            };
            (None, eval, false)
        }
    };
    let date = |col: Col| parse_date(field(col)).ok().flatten();
    let (case_id, cpr, municipality_code, application_date, decision_date) = match &case {
        Some(c) => (
            c.case_id.as_str(),
            c.cpr.as_str(),
            c.municipality_code.as_str(),
            c.application_date,
            Some(c.decision_date),
        ),
        None => (
            field(Col::CaseId).trim(),
            field(Col::Cpr).trim(),
            field(Col::MunicipalityCode).trim(),
            date(Col::ApplicationDate),
            date(Col::DecisionDate),
        ),
    };
    let finding = eval.finding.as_ref();
    let condition = |pick: fn(&rules::Conditions) -> rules::Condition| {
        finding.map_or(String::new(), |f| pick(&f.conditions).code().to_string())
    };
    let decided_by = eval.decided_by.to_string();
    let fields = vec![
        names[source].clone(),
        line.to_string(),
        case_id.to_string(),
        cpr.to_string(),
        municipality_code.to_string(),
        decided_by.clone(),
        application_date.map_or(String::new(), |d| d.to_string()),
        decision_date.map_or(String::new(), |d| d.to_string()),
        eval.classification.code().to_string(),
        eval.outcome.map_or(String::new(), |o| o.code().to_string()),
        eval.rule.code().to_string(),
        condition(|c| c.c1_person),
        condition(|c| c.c2_self_supporting),
        condition(|c| c.c3_exam),
        condition(|c| c.c4_first_time),
        finding.map_or(String::new(), |f| f.ground.ground.code().to_string()),
        finding.map_or(String::new(), |f| match f.program {
            Some(rules::case::YesNo::Yes) => "YES".to_string(),
            Some(rules::case::YesNo::No) => "NO".to_string(),
            None => "UNKNOWN".to_string(),
        }),
        eval.warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("|"),
        explanation(&eval),
    ];
    ListRow {
        fields,
        encoded: Vec::new(),
        case_id: String::new(),
        classification: eval.classification,
        outcome: eval.outcome,
        rule: eval.rule,
        duplicate,
        decided_by,
        authority: eval.decided_by,
        year: decision_date.map(|d| d.year()),
        bonus: case.is_some(),
    }
}
