//! Danish text normalisation (SPEC §3.1, §3.2, §4 step 5): one folding for value words and
//! refusal texts alike, so `Afslag`, `AFSLAG ` and `afslag` are one word and `§16` is `§ 16`.

/// Lower-cases, folds `æ`/`ø`/`å` to `ae`/`oe`/`aa`, en and em dashes to `-`, any run of white
/// space to one space, writes `§16` and `stk.2` as `§ 16` and `stk. 2`, and trims.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if ch.is_ascii_digit() && (out.ends_with('§') || out.ends_with("stk.")) {
            out.push(' ');
        }
        match ch {
            'A'..='Z' => out.push(ch.to_ascii_lowercase()),
            'a'..='z' | '0'..='9' => out.push(ch),
            'æ' | 'Æ' => out.push_str("ae"),
            'ø' | 'Ø' => out.push_str("oe"),
            'å' | 'Å' => out.push_str("aa"),
            '\u{2013}' | '\u{2014}' => out.push('-'),
            _ => out.extend(ch.to_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn danish_letters_case_and_spaces_fold() {
        assert_eq!(fold("  Afslået  "), "afslaaet");
        assert_eq!(fold("FAMILIESAMMENFØRT"), "familiesammenfoert");
        assert_eq!(fold("Stadfæstet"), "stadfaestet");
        assert_eq!(
            fold("selvforsørgelses-\r\n  og hjemrejseprogram"),
            "selvforsoergelses- og hjemrejseprogram"
        );
    }

    #[test]
    fn paragraph_sign_and_dashes_normalise() {
        assert_eq!(fold("jf. §16, stk.1"), "jf. § 16, stk. 1");
        assert_eq!(fold("aktivlovens §§22–25"), "aktivlovens §§ 22-25");
        assert_eq!(fold("§ 16"), "§ 16");
    }
}
