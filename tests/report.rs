//! `report.html` (SPEC §5.2), as a reader gets it: a well-formed page that needs nothing from
//! outside, the same from one run of an export to the next apart from its times, with the
//! sections the SPEC lists, and no CPR number.

mod nightly;

use nightly::*;
use quick_xml::events::Event;

fn scan_into(dir: &std::path::Path, out: &str, n: u32) -> String {
    let run = genoptag(dir)
        .args(["scan", "--quiet", "--out", out])
        .arg(night(n))
        .output()
        .unwrap();
    assert_ok(&run);
    std::fs::read_to_string(dir.join(out).join("report.html")).unwrap()
}

/// Parses the page as XML (it is written as polyglot HTML): every element closed and properly
/// nested, every attribute quoted and unique, every character reference valid.
fn assert_well_formed(page: &str) {
    let mut reader = quick_xml::Reader::from_str(page);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<String> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at byte {}: {e}", reader.error_position()));
        match event {
            Event::Start(e) => {
                for attribute in e.attributes() {
                    attribute.unwrap();
                }
                open.push(format!("{:?}", e.name()));
            }
            Event::Empty(e) => {
                for attribute in e.attributes() {
                    attribute.unwrap();
                }
            }
            Event::End(_) => {
                open.pop();
            }
            Event::GeneralRef(r) => {
                let known = ["amp", "lt", "gt", "quot", "apos"];
                let name: &str = r.as_ref();
                assert!(
                    known.contains(&name) || r.resolve_char_ref().unwrap().is_some(),
                    "unknown entity &{name};"
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "elements left open: {open:?}");
}

/// The page with every `<time>` element emptied: what may differ from run to run.
fn without_times(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<time") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("</time>").expect("an unclosed <time>") + start;
        out.push_str("<time/>");
        rest = &rest[end + "</time>".len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_report_is_well_formed_self_contained_and_without_cpr() {
    let dir = tempfile::tempdir().unwrap();
    let page = scan_into(dir.path(), "out", 1);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_well_formed(&page);
    assert!(
        !page.to_lowercase().contains("http"),
        "the page names an address"
    );
    for reference in ["src=", "href=", "url(", "@import"] {
        assert!(
            !page.contains(reference),
            "the page loads something: {reference}"
        );
    }
    assert_no_cpr("report.html", &page);
}

#[test]
fn two_runs_of_one_export_give_the_same_report_apart_from_the_times() {
    let dir = tempfile::tempdir().unwrap();
    let first = scan_into(dir.path(), "a", 3);
    let second = scan_into(dir.path(), "b", 3);
    assert!(first.contains("<time"));
    assert_eq!(without_times(&first), without_times(&second));
}

#[test]
fn the_report_has_each_section_of_the_spec_with_danish_headings_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let page = scan_into(dir.path(), "out", 1);
    for heading in [
        "Sagerne efter klassifikation <code>classification</code>",
        "Pr. myndighed, der træffer afgørelse om genoptagelse <code>decided_by</code>",
        "Pr. afgørelsesår <code>decision_date</code>",
        "Pr. regel <code>rule</code>",
        "Afviste rækker <code>rejects.csv</code>",
        "Kørslen <code>summary.json</code>",
        "Identifikation er ikke fuldstændig <code>identification_complete: false</code>",
    ] {
        assert!(page.contains(heading), "missing: {heading}");
    }
    // What follows from incomplete identification, and why it is incomplete here.
    assert!(page.contains("1 afvist række og 2 sager, som en sagsbehandler skal vurdere"));
    assert!(page.contains("oplyse offentligheden (hjemmeside, presse)"));
    // The authorities, named, with their counts.
    assert!(page.contains("<td>Odense Kommune</td><td><code>kommune:461</code></td><td class=\"num\">2</td><td class=\"num\">0</td>"));
    assert!(page.contains("<td>Ankestyrelsen</td><td><code>ankestyrelsen</code></td><td class=\"num\">1</td><td class=\"num\">1</td>"));
    // The chart by decision year is inline SVG, and its numbers are in a table too.
    assert!(page.contains("<svg viewBox="));
    assert!(page.contains("<tr><td>2019</td><td class=\"num\">2</td><td class=\"num\">0</td><td class=\"num\">2</td></tr>"));
    // Without a ledger there is no trend and no changes.
    assert!(!page.contains("id=\"trend\"") && !page.contains("id=\"changes\""));
}

#[test]
fn cpr_shapes_are_found_alone_but_not_inside_digests() {
    assert_eq!(cpr_shaped("cpr 0101901234."), Some("0101901234".into()));
    assert_eq!(
        cpr_shaped("<td>010190-1234</td>"),
        Some("010190-1234".into())
    );
    assert_eq!(
        cpr_shaped("blake3 ab0101901234cd 2026-11-21T02:00:00Z 12345678901"),
        None
    );
}
