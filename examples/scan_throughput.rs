//! Runs the quick record scanner (`input::scan::scan`) alone over a whole CSV file, on one
//! thread, and prints its throughput and a digest of everything it found (every span, and the
//! fields of every record csv_core read), so that two builds can be compared for speed and
//! for identical results:
//!
//! ```sh
//! cargo run --release --example scan_throughput -- FILE [BENEFIT_COLUMN] [REPEAT]
//! perf stat -e instructions,cycles target/release/examples/scan_throughput FILE
//! ```

use std::fs::File;
use std::ops::ControlFlow;
use std::time::Instant;

use genoptag::input::scan::{self, Found, Layout, RecordParser};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: scan_throughput FILE [BENEFIT_COLUMN] [REPEAT]");
    let benefit: usize = args
        .next()
        .map_or(3, |a| a.parse().expect("a column number"));
    let repeat: usize = args.next().map_or(1, |a| a.parse().expect("a count"));
    let file = File::open(&path).expect("the file opens");
    // SAFETY: the file is only read, and not changed by this program while it is mapped.
    let data = unsafe { memmap2::Mmap::map(&file) }.expect("the file maps");
    let layout = Layout {
        delimiter: b',',
        benefit: Some(benefit),
    };
    let header = data
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| i + 1);
    let mut parser = RecordParser::new(b',');
    for _ in 0..repeat {
        let (mut quick, mut parsed, mut digest) = (0u64, 0u64, 0xcbf2_9ce4_8422_2325u64);
        let mut mix = |x: u64| digest = (digest ^ x).wrapping_mul(0x0100_0000_01b3);
        let started = Instant::now();
        let stop = scan::scan(&data, header, data.len(), layout, &mut parser, |found| {
            let span = match found {
                Found::Quick(span) => {
                    quick += 1;
                    span
                }
                Found::Parsed(span, record) => {
                    parsed += 1;
                    for field in record {
                        field.iter().for_each(|&b| mix(u64::from(b)));
                        mix(1 << 40);
                    }
                    span
                }
            };
            mix(span.start as u64);
            mix(span.end as u64);
            mix(span.lines_before);
            mix(span.fields as u64);
            let (a, b) = span.benefit.map_or((usize::MAX, 0), |(a, b)| (a, b));
            mix(a as u64);
            mix(b as u64);
            ControlFlow::Continue(())
        });
        let took = started.elapsed().as_secs_f64();
        println!(
            "{quick} quick + {parsed} parsed records, stop {} after {} lines, digest {digest:016x}: \
             {took:.3} s, {:.2} GB/s",
            stop.end,
            stop.lines,
            (data.len() - header) as f64 / took / 1e9
        );
    }
}
