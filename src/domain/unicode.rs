//! Characters no name or text may hold: Unicode categories Cc (controls) and
//! Cf (format characters: zero-width spaces and joiners, bidi embeddings and
//! overrides, the byte order mark, the soft hyphen...). They are invisible or
//! reorder what is shown, so `payments\u{200b}` would look like `payments`.

/// Every code point of category Cf (Unicode 15.1), as inclusive ranges in order.
const FORMAT: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Whether `c` is of category Cf.
pub fn is_format(c: char) -> bool {
    let c = u32::from(c);
    FORMAT
        .binary_search_by(|&(low, high)| {
            if high < c {
                std::cmp::Ordering::Less
            } else if low > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The first character of category Cc or Cf in `text`, if any.
pub fn first_invisible(text: &str) -> Option<char> {
    // Every check request's names pass here: ASCII, the common case, has no Cf
    // character and its Cc ones are the ASCII controls.
    if text.is_ascii() {
        return text.bytes().find(u8::is_ascii_control).map(char::from);
    }
    text.chars().find(|&c| c.is_control() || is_format(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_ordered_and_disjoint() {
        for pair in FORMAT.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
    }

    #[test]
    fn format_characters_are_found_and_ordinary_ones_are_not() {
        for c in [
            '\u{AD}',
            '\u{200B}',
            '\u{200D}',
            '\u{202E}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{E0001}',
            '\u{E007F}',
            '\u{1343F}',
        ] {
            assert!(is_format(c), "{:04X}", u32::from(c));
        }
        for c in [
            'a', 'é', ' ', '\u{200A}', '\u{2010}', '\u{2065}', '\u{FFFC}', '😀',
        ] {
            assert!(!is_format(c), "{:04X}", u32::from(c));
        }
        assert_eq!(first_invisible("pay\u{1}ments"), Some('\u{1}'));
        assert_eq!(first_invisible("payments\u{200B}"), Some('\u{200B}'));
        assert_eq!(first_invisible("Zürich:42"), None);
    }
}
