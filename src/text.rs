//! Text that came from outside (a CSV cell, a server's message) made safe to show: control,
//! bidi and zero-width characters found and escaped. A leaf: it knows no records or secrets.

use std::borrow::Cow;

/// Text for a terminal: every control character but line feed and tab shown escaped
/// (`\x1b`, `\x9b`), so a CSV cell or a server message cannot move the cursor, retitle
/// the window or hide text. C1 controls (U+0080–U+009F) act as escapes on many terminals.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text for one line of a log or stream: every control character (line feed and tab too)
/// and every bidi or zero-width character escaped (`\x1b`, `\n`, `\u{202e}`), so text from a
/// server or a CSV cell can neither move the cursor, forge a line, nor reorder what is shown.
pub fn escape_all_controls(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| hidden_char(c.encode_utf8(&mut [0; 4])).is_some();
    if !text.chars().any(|c| c.is_control() || hidden(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The first character in `text` that is invisible or turns the text's direction: bidi
/// controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C), zero-width and other
/// default-ignorable characters (U+200B–U+200D, U+2060–U+2064, U+FEFF, U+00AD, variation
/// selectors, tags, Hangul fillers). In a UPN such a character makes two texts for one
/// person (`users` would count them twice) or shows another name than the one sent.
pub fn hidden_char(text: &str) -> Option<char> {
    if text.is_ascii() {
        return None;
    }
    text.chars().find(|&c| {
        matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_shown_escaped() {
        assert_eq!(escape_controls("a\x1b[2Jb\x07c\u{9b}d\re\nf\tg"), "a\\x1b[2Jb\\x07c\\x9bd\\x0de\nf\tg");
        assert!(matches!(escape_controls("plain é"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_log_line_shows_every_control_and_hidden_character_escaped() {
        assert_eq!(escape_all_controls("a\nb\u{202e}c\u{200b}d\x1b"), "a\\nb\\u{202e}c\\u{200b}d\\x1b");
        assert!(matches!(escape_all_controls("plain é"), Cow::Borrowed(_)));
        assert_eq!(hidden_char("ab\u{feff}c"), Some('\u{feff}'));
        assert_eq!(hidden_char("ascii only"), None);
    }
}
