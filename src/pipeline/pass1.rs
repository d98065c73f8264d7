//! Pass 1 of the scan: each input streamed in batches (the csv reader; see `mapped` for files
//! read in parallel pieces), every record judged in parallel, rejects written at once, rows of
//! other benefits counted, and bonus-related rows spilled and indexed for settling.

use super::*;

/// The spill file of pass 1, in the staging directory: kind, input, line, the canonical columns.
pub(super) const SPILL: &str = ".spill.csv";

/// What pass 1 leaves: the settled index, the counts so far, the inputs' manifests, and the spill
/// file of the rows pass 2 classifies.
pub(super) struct FirstPass {
    pub(super) index: Index,
    pub(super) tally: Tally,
    pub(super) inputs: Vec<InputSummary>,
    pub(super) spill_path: PathBuf,
    pub(super) progress: Progress,
    /// The rejected rows whose case id is the watched one (for `explain`).
    pub(super) watched: Vec<RejectedRow>,
}

/// Pass 1: streams every input, writes `rejects.csv`, spills the rows to classify, and settles
/// what the rows tell about each other. With `watch`, it also keeps the rejects of that case id.
pub(super) fn pass1(
    cfg: &ScanConfig,
    pool: &rayon::ThreadPool,
    staging: &Staging,
    watch: Option<&str>,
) -> Result<FirstPass, Error> {
    let mut rejects = CsvOut::create(staging, "rejects.csv", &REJECT_COLUMNS, cfg.excel)?;
    let mut spill = BufWriter::with_capacity(1 << 20, staging.create_file(SPILL)?);
    let mut index = Index::default();
    let mut tally = Tally::default();
    let mut watched = Vec::new();
    let total_size = cfg.sources.iter().try_fold(0u64, |sum, s| {
        s.path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| sum + m.len())
    });
    let mut progress = Progress::new(cfg.quiet, total_size);
    let mut inputs = Vec::new();
    for (s, source) in cfg.sources.iter().enumerate() {
        let mut pass1 = Pass1 {
            cfg,
            rejects: &mut rejects,
            spill: &mut spill,
            index: &mut index,
            tally: &mut tally,
            watch,
            watched: &mut watched,
        };
        inputs.push(pool.install(|| pass1.read_source(s as u32, source, &mut progress))?);
    }
    spill.flush().map_err(|e| Error::output(SPILL, e))?;
    drop(spill);
    rejects.finish()?;

    index.settle();
    Ok(FirstPass {
        index,
        tally,
        inputs,
        spill_path: staging.path().join(SPILL),
        progress,
        watched,
    })
}

pub(super) struct Pass1<'a> {
    pub(super) cfg: &'a ScanConfig,
    pub(super) rejects: &'a mut CsvOut,
    pub(super) spill: &'a mut BufWriter<std::fs::File>,
    pub(super) index: &'a mut Index,
    pub(super) tally: &'a mut Tally,
    /// For `explain`: keep the rejects with this case id in `watched`.
    pub(super) watch: Option<&'a str>,
    pub(super) watched: &'a mut Vec<RejectedRow>,
}

impl Pass1<'_> {
    pub(super) fn read_source(
        &mut self,
        s: u32,
        source: &Source,
        progress: &mut Progress,
    ) -> Result<InputSummary, Error> {
        if let Some(path) = &source.path
            && let Some(summary) = self.read_mapped(s, source, path, progress)?
        {
            return Ok(summary);
        }
        let cfg = self.cfg;
        let mut reader = Records::open_with_sha256(
            source,
            cfg.encoding,
            cfg.delimiter,
            cfg.digest,
            cfg.input_sha256,
            &cfg.mapped_columns,
        )?;
        let (decoding, delimiter, bytes) =
            (reader.decoding, reader.delimiter, reader.bytes.clone());
        let map = reader.map.clone();

        let mut batch: Vec<ByteRecord> = (0..cfg.batch_size).map(|_| ByteRecord::new()).collect();
        let mut results: Vec<First> = Vec::with_capacity(cfg.batch_size);
        let mut rows = 0u64;
        loop {
            let mut n = 0;
            while n < batch.len() && reader.read(&mut batch[n])? {
                n += 1;
            }
            if n == 0 {
                break;
            }
            batch[..n]
                .par_iter()
                .map(|rec| first_pass(rec, &map, decoding, &cfg.vocab, &cfg.patterns))
                .collect_into_vec(&mut results);
            for (rec, first) in batch[..n].iter().zip(results.drain(..)) {
                let line = records::line(rec);
                self.record(s, source, line, rec, first, &map, decoding, delimiter)?;
            }
            rows += n as u64;
            progress.update(&bytes, n as u64);
            if n < batch.len() {
                break;
            }
        }
        let size = bytes.load(Ordering::Relaxed);
        progress.source_done(size);
        let (encoding, delimiter) = (reader.encoding_name, reader.delimiter);
        let (digest, sha256) = reader.finish_with_sha256();
        self.tally.input_sha256.push(sha256);
        Ok(InputSummary::new(
            InputRead {
                path: &source.name,
                encoding,
                delimiter,
                map: &map,
            },
            size,
            rows,
            cfg.digest,
            digest,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        s: u32,
        source: &Source,
        line: u64,
        rec: &ByteRecord,
        first: First,
        map: &ColumnMap,
        decoding: Decoding,
        delimiter: u8,
    ) -> Result<(), Error> {
        self.tally.counts.rows_read += 1;
        let spill_error = |e| Error::output(SPILL, e);
        match first {
            First::Reject(column, reason) => {
                self.tally.counts.rejected += 1;
                *self.tally.rejects.entry(reason.code()).or_default() += 1;
                if let Some(case_id) = self.watch {
                    let id = map.position(Col::CaseId).and_then(|i| rec.get(i));
                    if id.is_some_and(|id| decode(id, decoding).trim() == case_id) {
                        self.watched.push(RejectedRow {
                            source: source.name.clone(),
                            line,
                            column: column.map(Col::name),
                            reason: reason.code(),
                        });
                    }
                }
                // The raw row holds the CPR: a pseudonymised run leaves it out.
                let raw = if self.cfg.pseudonymize.is_some() {
                    String::new()
                } else {
                    let raw: Vec<Cow<str>> = rec.iter().map(|f| decode(f, decoding)).collect();
                    raw.join(&(delimiter as char).to_string())
                };
                self.rejects.write([
                    source.name.as_str(),
                    &line.to_string(),
                    column.map_or("", Col::name),
                    reason.code(),
                    &raw,
                ])?;
            }
            First::Other { caught } => {
                self.tally
                    .classified(Classification::OutOfScope, Rule::Scope);
                if caught {
                    let word = map
                        .position(Col::Benefit)
                        .and_then(|i| rec.get(i))
                        .unwrap_or_default();
                    let word = caught_word(word, decoding);
                    match self.tally.caught.get_mut(word.as_bytes()) {
                        Some(n) => *n += 1,
                        None => {
                            self.tally.caught.insert(word.as_bytes().to_vec(), 1);
                        }
                    }
                }
                if self.cfg.audit_all {
                    let columns = spill_columns(rec, map, decoding);
                    spill_row(self.spill, "O", s, line, &columns).map_err(spill_error)?;
                }
            }
            First::Bonus { pending, columns } => {
                self.index.push_pending(pending, s, line);
                spill_row(self.spill, "B", s, line, &columns).map_err(spill_error)?;
            }
        }
        Ok(())
    }
}

/// A benefit word caught by the catch-all as `summary.json` counts it: decoded as the input is
/// (a Windows-1252 word stays readable), trimmed, and never a CPR number, whatever the mapping
/// points `benefit` at.
pub(super) fn caught_word(raw: &[u8], decoding: Decoding) -> Cow<'_, str> {
    match decode(raw, decoding) {
        Cow::Borrowed(word) => Cow::Borrowed(record::shown_word(word.trim())),
        Cow::Owned(word) => Cow::Owned(record::shown_word(word.trim()).to_string()),
    }
}

/// Writes a row to the spill file: kind, input, line, then the canonical columns in order
/// (as [`spill_columns`] encoded them).
pub(super) fn spill_row(
    spill: &mut BufWriter<std::fs::File>,
    kind: &str,
    s: u32,
    line: u64,
    columns: &[u8],
) -> std::io::Result<()> {
    write!(spill, "{kind},{s},{line},")?;
    spill.write_all(columns)
}

/// A row's canonical columns, decoded and encoded as the spill file holds them after its kind,
/// input and line: made where the row is read, in parallel.
pub(super) fn spill_columns(rec: &ByteRecord, map: &ColumnMap, decoding: Decoding) -> Vec<u8> {
    let mut out = Vec::with_capacity(rec.as_slice().len() + 32);
    let columns = Col::ALL.map(|col| {
        let field = map
            .position(col)
            .and_then(|i| rec.get(i))
            .unwrap_or_default();
        decode(field, decoding)
    });
    RowEncoder::with_delimiter(b',')
        .encode_into(&columns.each_ref().map(|c| c.as_bytes()), &mut out);
    out
}

pub(super) fn first_pass(
    rec: &ByteRecord,
    map: &ColumnMap,
    decoding: Decoding,
    vocab: &Vocabulary,
    patterns: &Patterns,
) -> First {
    verdict(rec, map, decoding, vocab, patterns, || {
        spill_columns(rec, map, decoding)
    })
}

/// Pass 1's verdict on a record; `spilled` gives its columns as the spill file holds them
/// (asked for a bonus-related row only).
pub(super) fn verdict(
    rec: &ByteRecord,
    map: &ColumnMap,
    decoding: Decoding,
    vocab: &Vocabulary,
    patterns: &Patterns,
    spilled: impl FnOnce() -> Vec<u8>,
) -> First {
    match records::parse(rec, map, decoding, vocab) {
        Parsed::Reject(r) => First::Reject(r.column, r.reason),
        Parsed::Other { caught } => First::Other { caught },
        Parsed::Bonus(case) => {
            let in_scope = case.benefit == Benefit::Il22 && case.decision == Decision::Refused;
            let alone = rules::evaluate(&case, patterns, &Facts::default()).classification;
            let with_prior_grant = if in_scope {
                rules::evaluate(
                    &case,
                    patterns,
                    &Facts {
                        prior_grant: true,
                        ..Facts::default()
                    },
                )
                .classification
            } else {
                alone
            };
            First::Bonus {
                pending: Pending::new(&case, alone, with_prior_grant),
                columns: spilled(),
            }
        }
    }
}
