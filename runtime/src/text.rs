//! Configuration bytes that are not UTF-8, carried in Rust strings without loss.
//!
//! Nagios reads its files as bytes, and administrators' trees hold Latin-1 files (`Café`
//! written as the single byte 0xE9). monitorc keeps such a byte as one character of Unicode's
//! last private use plane, U+10FF00 + the byte (U+10FF80 … U+10FFFF: only bytes ≥ 0x80 can be
//! invalid UTF-8), so names and values compare, hash and serialize as strings. Whatever writes
//! a file for an engine turns those characters back into the bytes: the engine then reads
//! exactly what the administrator wrote. Shards (RON) hold the characters, which RON writes as
//! `\u{10ffe9}` escapes.

use std::borrow::Cow;

const BASE: u32 = 0x10_FF00;

/// Decodes `bytes` as UTF-8, keeping each byte of an invalid sequence as its escape character.
/// A character of the escape range written literally in valid UTF-8 (U+10FF80 … U+10FFFF) is
/// kept as the escapes of its four bytes, so that [`encode`] gives back exactly `bytes`.
/// Returns the text and the offset in it of the first escape of an invalid byte, if any.
pub fn decode(bytes: Vec<u8>) -> (String, Option<usize>) {
    let bytes = match String::from_utf8(bytes) {
        Ok(text) if !has_escapes(&text) => return (text, None),
        Ok(text) => text.into_bytes(),
        Err(e) => e.into_bytes(),
    };
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut first = None;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        if has_escapes(valid) {
            for c in valid.chars() {
                match unescape(c) {
                    Some(_) => {
                        let mut buf = [0u8; 4];
                        text.extend(c.encode_utf8(&mut buf).bytes().map(escape));
                    }
                    None => text.push(c),
                }
            }
        } else {
            text.push_str(valid);
        }
        for &b in chunk.invalid() {
            first.get_or_insert(text.len());
            text.push(escape(b));
        }
    }
    (text, first)
}

/// Whether `text` may hold an escape character (each is encoded F4 8F BE/BF xx).
fn has_escapes(text: &str) -> bool {
    // The common case, no 0xF4 at all, is one memchr scan of the file.
    let b = text.as_bytes();
    b.contains(&0xF4) && b.windows(2).any(|w| w[0] == 0xF4 && w[1] == 0x8F)
}

/// The character that stands for the invalid byte `b` (≥ 0x80).
pub fn escape(b: u8) -> char {
    char::from_u32(BASE + u32::from(b)).expect("U+10FF80..=U+10FFFF are characters")
}

/// The byte an escape character stands for.
pub fn unescape(c: char) -> Option<u8> {
    let c = u32::from(c);
    (BASE + 0x80..=BASE + 0xFF)
        .contains(&c)
        .then(|| (c - BASE) as u8)
}

/// The bytes `text` was decoded from: escape characters become their bytes again.
pub fn encode(text: &str) -> Cow<'_, [u8]> {
    if !has_escapes(text) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match unescape(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// `text` for a terminal: each escape character shown as the Latin-1 character of its byte.
pub fn display(text: &str) -> Cow<'_, str> {
    if !has_escapes(text) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| unescape(c).map_or(c, char::from))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_unchanged() {
        let (t, first) = decode("Café ✓".as_bytes().to_vec());
        assert_eq!((t.as_str(), first), ("Café ✓", None));
        assert!(matches!(encode(&t), Cow::Borrowed(_)));
    }

    #[test]
    fn latin1_bytes_round_trip() {
        let bytes = b"alias Caf\xe9 r\xe9seau \xff\n".to_vec();
        let (t, first) = decode(bytes.clone());
        assert_eq!(first, Some(9));
        assert_eq!(t.chars().filter(|&c| unescape(c).is_some()).count(), 3);
        assert_eq!(&*encode(&t), &bytes[..]);
        assert_eq!(display(&t), "alias Café réseau ÿ\n");
    }

    #[test]
    fn escape_characters_written_literally_round_trip() {
        // Found by the grammar fuzz target: U+10FFE3 in valid UTF-8 must not become 0xE3.
        let bytes = "a\u{10ffe3}b\u{10ff00}".as_bytes().to_vec();
        let (t, first) = decode(bytes.clone());
        assert_eq!(first, None, "valid UTF-8 has no invalid byte");
        assert_eq!(&*encode(&t), &bytes[..]);
        let mut latin = b"\xe9 ".to_vec();
        latin.extend_from_slice(&bytes);
        let (t, first) = decode(latin.clone());
        assert_eq!(first, Some(0));
        assert_eq!(&*encode(&t), &latin[..]);
    }

    #[test]
    fn truncated_utf8_sequences_round_trip() {
        // A lone lead byte, a lead byte followed by ASCII, a stray continuation byte, and a
        // valid sequence after them.
        let bytes = b"\xc3 \xe2\x82x \x80 \xc3\xa9".to_vec();
        let (t, first) = decode(bytes.clone());
        assert_eq!(first, Some(0));
        assert_eq!(&*encode(&t), &bytes[..]);
        assert!(t.ends_with('é'));
    }
}
