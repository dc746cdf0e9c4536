//! Source files and spans.
//!
//! Owns the text of every file that was read and the mapping from byte offsets to
//! line/column. Spans are plain byte ranges into one file; everything that reports a position
//! (diagnostics, `explain`) goes through [`SourceMap::location`].

use std::path::{Path, PathBuf};

/// Index of a file in its [`SourceMap`], in load order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range `start..end` in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One file that was read: its path as the configuration named it, and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> SourceFile {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        let bytes = text.as_bytes();
        // `\n` ends a line (`\r\n` too), as in the grammar.
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    pub fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let column = self.text[start..offset].chars().count() + 1;
        Location {
            line: line + 1,
            column,
        }
    }

    /// Where each line starts (byte offsets; the first is 0).
    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }

    /// The text of the 1-based line `line`, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1] as usize;
        let end = self
            .line_starts
            .get(line)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// Every file of one configuration, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<std::sync::Arc<SourceFile>>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.add_shared(std::sync::Arc::new(file))
    }

    /// Adds a file that an earlier load read too (`loader::ParseCache`).
    pub fn add_shared(&mut self, file: std::sync::Arc<SourceFile>) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// The file as shared between loads: two loads that hold the same `Arc` read the same text.
    pub fn shared(&self, id: FileId) -> &std::sync::Arc<SourceFile> {
        &self.files[id.0 as usize]
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.get(id).path
    }

    pub fn text(&self, span: Span) -> &str {
        &self.get(span.file).text[span.range()]
    }

    pub fn location(&self, span: Span) -> Location {
        self.get(span.file).location(span.start as usize)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), &**f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_characters() {
        let f = SourceFile::new("x".into(), "ab\r\ncé d\nlast".into());
        assert_eq!(f.location(0), Location { line: 1, column: 1 });
        assert_eq!(f.location(4), Location { line: 2, column: 1 });
        // `é` is two bytes but one column.
        assert_eq!(f.location(8), Location { line: 2, column: 4 });
        assert_eq!(f.location(10), Location { line: 3, column: 1 });
        assert_eq!(f.line_text(1), "ab");
        assert_eq!(f.line_text(3), "last");
    }
}
