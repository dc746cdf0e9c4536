//! Between the checker's byte offsets and file paths and the protocol's positions (lines and
//! UTF-16 code units) and `file:` URIs.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use lsp_types::{Position, Range, Uri};

/// Where each line of a text starts, for a text the checker did not read (an editor's buffer;
/// the checker's files have [`monitorc_grammar::SourceFile::line_starts`]).
#[derive(Debug, Default, Clone)]
pub struct Lines {
    starts: Vec<u32>,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        Lines { starts }
    }

    pub fn offset(&self, text: &str, pos: Position) -> usize {
        offset(text, &self.starts, pos)
    }
}

/// The position of byte `offset` of `text`, whose lines start at `starts` (clamped to the
/// text).
pub fn position(text: &str, starts: &[u32], offset: usize) -> Position {
    let offset = floor_char(text, offset.min(text.len()));
    let line = starts.partition_point(|&s| s as usize <= offset) - 1;
    let col = text[starts[line] as usize..offset].encode_utf16().count();
    Position::new(line as u32, col as u32)
}

pub fn range(text: &str, starts: &[u32], start: usize, end: usize) -> Range {
    Range::new(position(text, starts, start), position(text, starts, end))
}

/// The byte offset of `pos` (a line past the end is the end; a column past the line's end is
/// its end).
pub fn offset(text: &str, starts: &[u32], pos: Position) -> usize {
    let Some(&start) = starts.get(pos.line as usize) else {
        return text.len();
    };
    let start = start as usize;
    let end = starts
        .get(pos.line as usize + 1)
        .map_or(text.len(), |&e| (e as usize).saturating_sub(1));
    let mut units = 0u32;
    for (i, c) in text[start..end].char_indices() {
        if units >= pos.character {
            return start + i;
        }
        units += c.len_utf16() as u32;
    }
    end
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The `file:` URI of an absolute path.
pub fn uri(path: &Path) -> Uri {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&s).expect("a percent-encoded file URI")
}

/// The path of a `file:` URI; `None` for another scheme.
pub fn path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file://host/path` names another machine: only the local form is read.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    let text = String::from_utf8(out).ok()?;
    text.starts_with('/').then(|| PathBuf::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "define host {\n  alias  Zürich 𝄞 x\n}\n";
        let lines = Lines::new(text);
        let x = text.find(" x").unwrap() + 1;
        let p = position(text, &lines.starts, x);
        // `  alias  Zürich ` is 16 units, the clef two more, then a blank.
        assert_eq!(p, Position::new(1, 19));
        assert_eq!(lines.offset(text, p), x);
        assert_eq!(
            lines.offset(text, Position::new(1, 999)),
            text.find("\n}").unwrap()
        );
        assert_eq!(lines.offset(text, Position::new(99, 0)), text.len());
        assert_eq!(position(text, &lines.starts, 99_999), Position::new(3, 0));
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/a dir/é#1.cfg");
        let u = uri(p);
        assert_eq!(u.as_str(), "file:///tmp/a%20dir/%C3%A9%231.cfg");
        assert_eq!(path(&u).as_deref(), Some(p));
        assert_eq!(path(&Uri::from_str("untitled:1").unwrap()), None);
    }
}
