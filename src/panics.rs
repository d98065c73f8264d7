//! What a bug in genoptag does to a run: a panic on any of its threads is reported once, as an
//! internal error with where it happened and any number that could be a CPR number masked, and
//! the run ends with exit code 1 (a fatal error), its outputs left as the last run left them.
//!
//! Rust's own report of a panic prints its message as it is, and a message can quote what the
//! code was looking at (slicing a string at a wrong place quotes the string): a row's CPR number
//! would then reach the terminal and the nightly job's log.

use std::panic::PanicHookInfo;

/// Reports every panic as [`report`] writes it, in place of Rust's report.
pub fn report_as_internal_errors() {
    std::panic::set_hook(Box::new(|info| eprintln!("{}", report(info))));
}

/// The line a panic is reported with.
fn report(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = (payload.downcast_ref::<&str>().copied())
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let thread = std::thread::current();
    let place = match info.location() {
        Some(at) => format!(" at {}:{}", at.file(), at.line()),
        None => String::new(),
    };
    format!(
        "genoptag: internal error in thread `{}`{place}: {}\n\
         genoptag: this is a bug in genoptag, not in the input: the run stopped, and a run that \
         stops replaces no output of the last; please report these lines",
        thread.name().unwrap_or("unnamed"),
        masked(message)
    )
}

/// `text` with each run of six or more digits written as `#`s: no CPR number (ten digits, or
/// six, a dash and four) survives it, and the indexes and lengths a bug report needs do.
fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = 0..0;
    for (at, c) in text.char_indices() {
        if c.is_ascii_digit() {
            if run.is_empty() {
                run = at..at;
            }
            run.end = at + 1;
            continue;
        }
        push_digits(&mut out, &text[run.clone()]);
        run = 0..0;
        out.push(c);
    }
    push_digits(&mut out, &text[run]);
    out
}

/// Writes a run of digits, as `#`s if it is six or more long.
fn push_digits(out: &mut String, digits: &str) {
    if digits.len() >= 6 {
        out.extend(std::iter::repeat_n('#', digits.len()));
    } else {
        out.push_str(digits);
    }
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn a_cpr_number_in_a_panic_message_is_masked_and_small_numbers_are_kept() {
        assert_eq!(
            masked("byte index 7 is out of range of `2020-1,0102031234,461`"),
            "byte index 7 is out of range of `2020-1,##########,461`"
        );
        assert_eq!(masked("010203-1234"), "######-1234");
        assert_eq!(
            masked("the len is 16 but the index is 123456"),
            "the len is 16 but the index is ######"
        );
        assert_eq!(masked("æ 12345 ø"), "æ 12345 ø");
        assert_eq!(masked("0102031234"), "##########");
        assert_eq!(masked(""), "");
    }
}
