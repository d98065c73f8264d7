//! The page's words: an authority's name as a reader knows it, what each rule and reject reason
//! means, and counts, decimals and file sizes written the Danish way.

use crate::input::kommuner;

/// The authority as a reader knows it: "Odense Kommune", "Ankestyrelsen".
pub fn authority_name(decided_by: &str) -> String {
    match decided_by.strip_prefix("kommune:") {
        Some("ukendt") => "Ukendt kommune (kommunekoden er ikke tre cifre)".to_string(),
        Some("101") => "Københavns Kommune".to_string(),
        Some(code) => match kommuner::name(code) {
            Some(name) => format!("{name} Kommune"),
            None => format!("Kommune {code} (ukendt kode)"),
        },
        None if decided_by == "ankestyrelsen" => "Ankestyrelsen".to_string(),
        None => decided_by.to_string(),
    }
}

/// What each rule or step means, in a line (SPEC §4).
pub(super) fn rule_meaning(code: &str) -> &'static str {
    match code {
        "SCOPE" => {
            "Ikke et afslag på danskbonus efter integrationslovens § 22 (eller afgjort før 1. juli 2018)"
        }
        "APPEAL" => "Afslaget er ændret eller hjemvist i klagesagen",
        "REGIME" => {
            "Ansøgningsdatoen afgør reglerne: den ændrede § 22 fra 9. juni 2021, eller ukendt"
        }
        "R1" => {
            "Afslaget nævner programmet; alle fire betingelser er opfyldt → genoptag, forventet bevilling"
        }
        "R2" => "Afslaget nævner programmet; en betingelse er uafklaret → genoptag og vurdér",
        "R3" => {
            "Afslaget nævner programmet; en betingelse er ikke opfyldt → genoptag, forventet afslag"
        }
        "R4" => "Afslaget nævner en anden grund, men alle fire betingelser er opfyldt → vurdér",
        "R5" => "Afslaget nævner en anden grund, og en betingelse er ikke opfyldt eller uafklaret",
        "R6" => "Grunden er uklar; omfattet af programmet; alle betingelser opfyldt → vurdér",
        "R7" => {
            "Grunden er uklar; omfattet af programmet; en betingelse ikke opfyldt eller uafklaret"
        }
        "R8" => {
            "Grunden er uklar; ikke (kendt) omfattet af programmet; alle betingelser opfyldt → genoptag"
        }
        "R9" => {
            "Grunden er uklar; ikke (kendt) omfattet af programmet; en betingelse uafklaret → vurdér"
        }
        "R10" => "Grunden er uklar; en betingelse er ikke opfyldt, så afslaget står",
        _ => "",
    }
}

pub(super) fn reject_meaning(code: &str) -> &'static str {
    match code {
        "FIELD_COUNT" => "Forkert antal felter i rækken",
        "UNKNOWN_VALUE" => "Ukendt ydelse eller afgørelse",
        "EMPTY_REQUIRED" => "Sagsnummer mangler",
        "UNREADABLE_DATE" => "Afgørelsesdatoen kan ikke læses",
        _ => "",
    }
}

/// A count the Danish way: 12.345.
pub(super) fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(d);
    }
    out
}

/// A count with its noun: "1 sag", "12 sager".
pub(super) fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", number(n), if n == 1 { one } else { many })
}

/// A decimal number the Danish way: 12,5.
pub(super) fn decimal(x: f64, places: usize) -> String {
    format!("{x:.places$}").replace('.', ",")
}

/// A file size: 1,2 MB.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{} {unit}", decimal(value, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_danish_way() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1.000");
        assert_eq!(number(1234567), "1.234.567");
        assert_eq!(decimal(12.345, 1), "12,3");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_234_567), "1,2 MB");
    }

    #[test]
    fn authorities_are_named() {
        assert_eq!(authority_name("kommune:461"), "Odense Kommune");
        assert_eq!(authority_name("ankestyrelsen"), "Ankestyrelsen");
        assert!(authority_name("kommune:ukendt").starts_with("Ukendt kommune"));
    }
}
