//! The loader: from a path on the command line to every file of the configuration, parsed.
//!
//! CONFIG is a main config file, a single object file, or a directory (every `*.cfg` below
//! it). `cfg_file=`, `cfg_dir=` and `resource_file=` are followed wherever they appear, and
//! `include_file=` / `include_dir=` in object files, relative to the directory of the file
//! that names them; each file records how it was reached ([`Origin`]), for the engines that
//! read directives in object files differently (catalogue rows F10, F11). Every file is read once, by canonical path,
//! so a file reached twice or a symlink loop is harmless. Files are read and parsed in parallel
//! (rayon) one include level at a time; results are kept in a deterministic order: a level's
//! files in the order their directives name them, directories walked in sorted order.
//!
//! Problems with included files are diagnostics at the directive that named them and the load
//! goes on; only a CONFIG path that cannot be used at all is a [`LoadError`].

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{codes, Diagnostic};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::tree::{self, SyntaxTree};

/// A CONFIG argument that cannot be loaded at all (exit code 2 in the CLI).
#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    Unreadable(PathBuf, std::io::Error),
    /// The caller asked for the check to stop (a newer edit in the editor).
    Cancelled,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "{}: no such file or directory", p.display()),
            LoadError::Unreadable(p, e) => write!(f, "{}: {e}", p.display()),
            LoadError::Cancelled => write!(f, "the check was cancelled"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Which directive brought a file in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The CONFIG argument itself, or a file found in the CONFIG directory.
    Root,
    CfgFile,
    CfgDir,
    ResourceFile,
    /// Named by `cfg_file=` or `cfg_dir=` inside an object file (or below such a file):
    /// Nagios 4 refuses the directive, Shinken and Alignak ignore it (F10).
    Nested,
    /// Named by `include_file=` or `include_dir=` inside an object file: Nagios 4 reads it,
    /// Shinken and Alignak do not (F11).
    Included,
    /// An Alignak environment file (`alignak.ini`, `alignak.d/*.ini`): no object syntax.
    AlignakEnv,
}

/// An Alignak 2 environment: the sections of its files, in the order read.
#[derive(Debug, Default)]
pub struct AlignakEnv {
    pub path: PathBuf,
    pub sections: Vec<crate::ini::IniSection>,
}

/// Every file of a configuration, parsed, with what went wrong while reading them.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    /// The syntax tree of each file, indexed like `sources` (shared with a [`ParseCache`]).
    pub trees: Vec<Arc<SyntaxTree>>,
    /// How each file was reached, indexed like `sources`.
    pub origins: Vec<Origin>,
    pub diagnostics: Vec<Diagnostic>,
    /// The Alignak environment the configuration was loaded with, if any.
    pub alignak_env: Option<AlignakEnv>,
    /// Files that are not UTF-8 (kept byte for byte, see `monitorc_runtime::text`): whether
    /// that is an error depends on the engine, so the compiler reports them.
    pub not_utf8: Vec<NotUtf8>,
}

/// A file that is not UTF-8.
#[derive(Clone, Debug)]
pub struct NotUtf8 {
    /// The character standing for the file's first invalid byte.
    pub at: Span,
    pub byte: u8,
    /// The directive that included the file (none for CONFIG itself).
    pub directive: Option<Span>,
}

impl Loaded {
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile, &SyntaxTree)> {
        self.sources
            .iter()
            .zip(&self.trees)
            .map(|((id, f), t)| (id, f, &**t))
    }
}

/// A file to read: its path as displayed, and the directive that named it.
struct Pending {
    path: PathBuf,
    directive: Option<Span>,
    origin: Origin,
    /// Set once the file is queued for reading (none if it cannot be resolved).
    canonical: Option<PathBuf>,
}

/// What a load keeps of each file for the next one (the language server checks the same tree
/// on every edit): its text, and its syntax tree with the diagnostics parsing gave. A file is
/// not read again while its size, modification time and inode are those it was read with (and
/// that time is more than two seconds past, so that a write in the same clock tick is not
/// missed); it is not parsed again while its text and its place in the load order are the same.
#[derive(Debug, Default)]
pub struct ParseCache {
    files: HashMap<PathBuf, Cached>,
}

impl ParseCache {
    /// How many files the cache holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[derive(Debug)]
struct Cached {
    /// The file on disk as it was read; none for an overlay text, or a file written too
    /// recently to be sure of.
    stamp: Option<Stamp>,
    file: Arc<SourceFile>,
    not_utf8: Option<(usize, u8)>,
    nul: Option<usize>,
    id: FileId,
    tree: Arc<SyntaxTree>,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ino: m.ino(),
            dev: m.dev(),
        })
    }

    /// Old enough that a later write changes the modification time.
    fn settled(self) -> Option<Stamp> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        (self.mtime.0 + 2 < now).then_some(self)
    }
}

/// A file's text as fetched: unchanged since the cached read, or read now.
enum Got<'c> {
    Kept(&'c Cached),
    Read(String, Option<(usize, u8)>, Option<Stamp>),
}

/// Texts that stand for files on disk: an editor's unsaved buffers. A file is looked up by
/// its path as the loader reaches it, then by its canonical path.
#[derive(Clone, Debug, Default)]
pub struct Overlay {
    files: HashMap<PathBuf, String>,
}

impl Overlay {
    /// `text` stands for the file at `path` (made canonical when it exists).
    pub fn insert(&mut self, path: &Path, text: String) {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.files.insert(key, text);
    }

    pub fn remove(&mut self, path: &Path) {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.files.remove(&key);
        self.files.remove(path);
    }

    pub fn get(&self, path: &Path) -> Option<&str> {
        if self.files.is_empty() {
            return None;
        }
        self.files
            .get(path)
            .or_else(|| self.files.get(&std::fs::canonicalize(path).ok()?))
            .map(String::as_str)
    }

    /// The text for a file queued by the loader, whose canonical path is already known.
    fn lookup(&self, p: &Pending) -> Option<&str> {
        if self.files.is_empty() {
            return None;
        }
        self.files
            .get(&p.path)
            .or_else(|| self.files.get(p.canonical.as_ref()?))
            .map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Loads the configuration rooted at `root`.
pub fn load(root: &Path) -> Result<Loaded, LoadError> {
    load_with(root, &Overlay::default(), None)
}

/// [`load`], with the texts of `overlay` read instead of those files on disk, and what an
/// earlier load left in `cache` used where the files did not change (the cache is updated).
pub fn load_with(
    root: &Path,
    overlay: &Overlay,
    cache: Option<&mut ParseCache>,
) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    let mut pending = Vec::new();
    add_root(root, &mut pending, &mut loaded)?;
    follow(pending, &mut loaded, overlay, cache);
    Ok(loaded)
}

/// Loads an Alignak 2 configuration: the environment file `env` (`alignak.ini`) and every
/// `*.ini` under the `alignak.d` folder beside it (in name order, as Alignak reads them), the
/// object files their `[alignak-configuration]` `cfg…` options name, and `config` if given.
pub fn load_alignak(env: &Path, config: Option<&Path>) -> Result<Loaded, LoadError> {
    load_alignak_with(env, config, &Overlay::default(), None)
}

/// [`load_alignak`], with the texts of `overlay` read instead of those object files on disk
/// (the `.ini` files are read from disk), and `cache` as in [`load_with`].
pub fn load_alignak_with(
    env: &Path,
    config: Option<&Path>,
    overlay: &Overlay,
    cache: Option<&mut ParseCache>,
) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    let text = monitorc_runtime::fs::read(env).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound(env.to_path_buf()),
        _ => LoadError::Unreadable(env.to_path_buf(), e),
    })?;
    let mut files = vec![(env.to_path_buf(), text)];
    let extra = env.parent().unwrap_or(Path::new("")).join("alignak.d");
    if extra.is_dir() {
        let mut found: Vec<PathBuf> = walkdir::WalkDir::new(&extra)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "ini"))
            .map(|e| e.into_path())
            .collect();
        found.sort();
        for f in found {
            match monitorc_runtime::fs::read(&f) {
                Ok(t) => files.push((f, t)),
                Err(e) => loaded.diagnostics.push(
                    Diagnostic::new(
                        codes::FILE_UNREADABLE,
                        format!("cannot read `{}`: {e}", f.display()),
                    )
                    .in_file(&f),
                ),
            }
        }
    }
    let mut sections = Vec::new();
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let id = FileId(loaded.sources.len() as u32);
        let (s, d) = crate::ini::parse(id, &text);
        loaded.sources.add(SourceFile::new(path, text));
        loaded.trees.push(Arc::default());
        loaded.origins.push(Origin::AlignakEnv);
        loaded.diagnostics.extend(d);
        sections.extend(s);
    }
    let mut pending = Vec::new();
    if let Some(c) = config {
        add_root(c, &mut pending, &mut loaded)?;
    }
    let base = env.parent().unwrap_or(Path::new("")).to_path_buf();
    for section in sections
        .iter()
        .filter(|s| s.name == "alignak-configuration")
    {
        for o in section.options.iter().filter(|o| o.key.starts_with("cfg")) {
            let value = match crate::ini::interpolate(&sections, &section.name, &o.raw) {
                Ok(v) => v,
                Err(why) => {
                    loaded.diagnostics.push(
                        Diagnostic::new(codes::INVALID_ALIGNAK_ENV, format!("`{}`: {why}", o.key))
                            .at(o.value_span)
                            .label("cannot be interpolated")
                            .help("define the option it names in this section or in `[DEFAULT]`"),
                    );
                    continue;
                }
            };
            let target = base.join(value.trim());
            if !target.is_file() {
                loaded.diagnostics.push(
                    Diagnostic::new(
                        codes::INCLUDED_FILE_NOT_FOUND,
                        format!("file `{}` does not exist", target.display()),
                    )
                    .at(o.value_span)
                    .label("named here")
                    .help(relative_hint(&base, &value)),
                );
                continue;
            }
            // Alignak reads these as its legacy main configuration files: their `cfg_file`
            // and `cfg_dir` lines are followed (not object-file directives, F10).
            pending.push(Pending {
                path: target,
                directive: Some(o.value_span),
                origin: Origin::Root,
                canonical: None,
            });
        }
    }
    loaded.alignak_env = Some(AlignakEnv {
        path: env.to_path_buf(),
        sections,
    });
    follow(pending, &mut loaded, overlay, cache);
    Ok(loaded)
}

/// Queues `root` (a file, or a directory's `*.cfg` files); the root must be readable.
fn add_root(root: &Path, pending: &mut Vec<Pending>, loaded: &mut Loaded) -> Result<(), LoadError> {
    let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound(root.to_path_buf()),
        _ => LoadError::Unreadable(root.to_path_buf(), e),
    })?;
    if meta.is_dir() {
        let mut diags = Vec::new();
        for path in walk_cfg_dir(root, None, &mut diags) {
            pending.push(Pending {
                path,
                directive: None,
                origin: Origin::Root,
                canonical: None,
            });
        }
        loaded.diagnostics.extend(diags);
    } else {
        // Reading the root must work; everything after it is a diagnostic, not a failure.
        if let Some(kind) = monitorc_runtime::fs::special_kind(root) {
            return Err(LoadError::Unreadable(
                root.to_path_buf(),
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("it is {}", monitorc_runtime::fs::describe(&kind)),
                ),
            ));
        }
        std::fs::File::open(root).map_err(|e| LoadError::Unreadable(root.to_path_buf(), e))?;
        pending.push(Pending {
            path: root.to_path_buf(),
            directive: None,
            origin: Origin::Root,
            canonical: None,
        });
    }
    Ok(())
}

/// Reads and parses the pending files, then the files their directives name, level by level.
fn follow(
    mut pending: Vec<Pending>,
    loaded: &mut Loaded,
    overlay: &Overlay,
    cache: Option<&mut ParseCache>,
) {
    let mut seen = HashSet::new();
    let mut kept = HashMap::new();
    while !pending.is_empty() {
        // Keep the first mention of each file; later mentions are harmless repeats.
        for p in &mut pending {
            p.canonical = std::fs::canonicalize(&p.path).ok();
        }
        pending.retain(|p| match &p.canonical {
            Some(c) => seen.insert(c.clone()),
            None => true, // reported when read
        });
        let old = cache.as_deref();
        let read: Vec<_> = pending.par_iter().map(|p| fetch(p, overlay, old)).collect();
        let first_id = loaded.sources.len() as u32;
        let mut ok = Vec::new();
        for (p, r) in pending.drain(..).zip(read) {
            match r {
                Ok(got) => ok.push((p, got)),
                Err(d) => loaded.diagnostics.push(d),
            }
        }
        // A file with a NUL byte is no text file: it is reported at that byte, not parsed.
        // Its line index is built here too, on the pool rather than one file after the other.
        let parsed: Vec<(Pending, Cached)> = ok
            .into_par_iter()
            .enumerate()
            .map(|(i, (p, got))| {
                let id = FileId(first_id + i as u32);
                let entry = parse_file(&p, id, got, old);
                (p, entry)
            })
            .collect();
        for (p, entry) in parsed {
            let Cached {
                file,
                not_utf8,
                nul,
                tree,
                diagnostics: diags,
                ..
            } = &entry;
            let (not_utf8, nul, tree, diags) = (*not_utf8, *nul, tree.clone(), diags.clone());
            let id = loaded.sources.add_shared(file.clone());
            if let Some(c) = &p.canonical {
                kept.insert(c.clone(), entry);
            }
            if let Some(pos) = nul {
                let mut d = Diagnostic::new(
                    codes::FILE_HAS_NUL,
                    format!(
                        "`{}` contains a NUL byte; it is not a text file",
                        p.path.display()
                    ),
                )
                .at(Span::new(id, pos, pos + 1))
                .label("a NUL byte")
                .help(
                    "configuration files are text; remove binary files from included directories",
                );
                if let Some(s) = p.directive {
                    d = d.secondary(s, "included here");
                }
                loaded.diagnostics.push(d);
            }
            if let (Some((at, byte)), None) = (not_utf8, nul) {
                loaded.not_utf8.push(NotUtf8 {
                    at: Span::new(id, at, at + 4),
                    byte,
                    directive: p.directive,
                });
            }
            loaded.diagnostics.extend(diags);
            let base = p.path.parent().unwrap_or(Path::new("")).to_path_buf();
            let file_text = &loaded.sources.get(id).text;
            let object_file = matches!(
                p.origin,
                Origin::CfgFile | Origin::CfgDir | Origin::Nested | Origin::Included
            );
            for param in &tree.params {
                let key = &file_text[param.key.range()];
                let origin = match key {
                    "cfg_file" | "cfg_dir" if object_file => Origin::Nested,
                    "include_file" | "include_dir" if p.origin == Origin::Nested => Origin::Nested,
                    "include_file" | "include_dir" if object_file => Origin::Included,
                    "cfg_file" => Origin::CfgFile,
                    "cfg_dir" => Origin::CfgDir,
                    "resource_file" => Origin::ResourceFile,
                    _ => continue,
                };
                let dir = matches!(key, "cfg_dir" | "include_dir");
                let value = param.value(file_text).trim();
                if value.is_empty() {
                    loaded.diagnostics.push(
                        Diagnostic::new(codes::EMPTY_INCLUDE, format!("`{key}=` names no path"))
                            .at(param.span)
                            .label("empty path")
                            .help(format!("write `{key}=PATH`, or remove the line")),
                    );
                    continue;
                }
                // A path written in Latin-1 names the file with those bytes.
                let target = base.join(std::ffi::OsStr::from_bytes(
                    &monitorc_runtime::text::encode(value),
                ));
                let at = param.value;
                if dir {
                    if !target.is_dir() {
                        let what = if target.exists() {
                            "is not a directory"
                        } else {
                            "does not exist"
                        };
                        loaded.diagnostics.push(
                            Diagnostic::new(
                                codes::INCLUDED_DIR_NOT_FOUND,
                                format!("directory `{}` {what}", target.display()),
                            )
                            .at(at)
                            .label("named here")
                            .help(relative_hint(&base, value)),
                        );
                        continue;
                    }
                    for path in walk_cfg_dir(&target, Some(at), &mut loaded.diagnostics) {
                        pending.push(Pending {
                            path,
                            directive: Some(at),
                            origin,
                            canonical: None,
                        });
                    }
                } else {
                    pending.push(Pending {
                        path: target,
                        directive: Some(at),
                        origin,
                        canonical: None,
                    });
                }
            }
            loaded.trees.push(tree);
            loaded.origins.push(p.origin);
        }
    }
    // What this load did not reach is forgotten.
    if let Some(c) = cache {
        c.files = kept;
    }
}

/// The file's text: unchanged since `cache` read it, from `overlay`, or from disk.
fn fetch<'c>(
    p: &Pending,
    overlay: &Overlay,
    cache: Option<&'c ParseCache>,
) -> Result<Got<'c>, Diagnostic> {
    if let Some(text) = overlay.lookup(p) {
        return Ok(Got::Read(text.to_string(), None, None));
    }
    let cached = cache
        .and_then(|c| c.files.get(p.canonical.as_ref()?))
        .filter(|c| c.file.path == p.path);
    let stamp = cache.and(Stamp::of(&p.path));
    if let (Some(c), Some(s)) = (cached, stamp) {
        if c.stamp == Some(s) {
            return Ok(Got::Kept(c));
        }
    }
    let (text, not_utf8) = read_file(p)?;
    Ok(Got::Read(text, not_utf8, stamp.and_then(Stamp::settled)))
}

/// The file as parsed for its place `id`: what `cache` holds when its text and place are the
/// same, else parsed now.
fn parse_file(p: &Pending, id: FileId, got: Got<'_>, cache: Option<&ParseCache>) -> Cached {
    let cached = cache
        .and_then(|c| c.files.get(p.canonical.as_ref()?))
        .filter(|c| c.file.path == p.path);
    let (stamp, file, not_utf8, nul, same) = match got {
        Got::Kept(c) => (c.stamp, c.file.clone(), c.not_utf8, c.nul, true),
        Got::Read(text, not_utf8, stamp) => {
            match cached.filter(|c| c.file.text == text && c.not_utf8 == not_utf8) {
                Some(c) => (stamp, c.file.clone(), c.not_utf8, c.nul, true),
                None => {
                    let nul = text.find('\0');
                    let file = Arc::new(SourceFile::new(p.path.clone(), text));
                    (stamp, file, not_utf8, nul, false)
                }
            }
        }
    };
    let (tree, diagnostics) = match cached.filter(|c| same && c.id == id) {
        Some(c) => (c.tree.clone(), c.diagnostics.clone()),
        None => {
            let (tree, diags) = match nul {
                Some(_) => tree::parse(id, ""),
                None => tree::parse(id, &file.text),
            };
            (Arc::new(tree), diags)
        }
    };
    Cached {
        stamp,
        file,
        not_utf8,
        nul,
        id,
        tree,
        diagnostics,
    }
}

fn relative_hint(base: &Path, value: &str) -> String {
    if Path::new(value).is_absolute() {
        "check the path, or install what provides it".to_string()
    } else {
        format!(
            "relative paths are resolved against the directory of the including file (`{}`)",
            if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base
            }
            .display()
        )
    }
}

/// Every `*.cfg` file below `dir`, recursively, following symbolic links, in sorted order.
fn walk_cfg_dir(dir: &Path, directive: Option<Span>, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        match entry {
            Ok(e) => {
                if e.file_type().is_file()
                    && e.file_name().to_str().is_some_and(|n| n.ends_with(".cfg"))
                {
                    files.push(e.into_path());
                }
            }
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| dir.to_path_buf());
                let d = if let Some(ancestor) = e.loop_ancestor() {
                    Diagnostic::new(
                        codes::SYMLINK_LOOP,
                        format!(
                            "`{}` links back to `{}`; the loop is not followed",
                            path.display(),
                            ancestor.display()
                        ),
                    )
                    .help("remove the symbolic link, or point it outside the included directory")
                } else {
                    Diagnostic::new(
                        codes::FILE_UNREADABLE,
                        format!("cannot read `{}`: {}", path.display(), io_reason(&e)),
                    )
                    .help("check the permissions of the directory and of the files in it")
                };
                let d = match directive {
                    Some(s) => d.at(s).label("while reading the directory named here"),
                    // CONFIG itself is the directory: the entry is the place.
                    None => d.in_file(&path),
                };
                diags.push(d);
            }
        }
    }
    files
}

fn io_reason(e: &walkdir::Error) -> String {
    e.io_error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| e.to_string())
}

/// A file's text (invalid bytes kept as escape characters) and its first invalid byte.
type Read = (String, Option<(usize, u8)>);

fn read_file(p: &Pending) -> Result<Read, Diagnostic> {
    let at = |d: Diagnostic| match p.directive {
        Some(s) => d.at(s).label("included here"),
        None => d.in_file(&p.path),
    };
    let bytes = match monitorc_runtime::fs::read(&p.path) {
        Ok(b) => b,
        Err(e) => {
            let d = if e.kind() == std::io::ErrorKind::NotFound {
                Diagnostic::new(
                    codes::INCLUDED_FILE_NOT_FOUND,
                    format!("file `{}` does not exist", p.path.display()),
                )
                .help(match p.origin {
                    Origin::ResourceFile => "resource_file must name an existing file of `$USERn$=value` lines",
                    _ => "check the path; relative paths are resolved against the directory of the including file",
                })
            } else if let Some(kind) = monitorc_runtime::fs::special_kind(&p.path) {
                Diagnostic::new(
                    codes::FILE_UNREADABLE,
                    format!("`{}` is {}", p.path.display(), monitorc_runtime::fs::describe(&kind)),
                )
                .help("configuration files are regular files of a sensible size: name the file itself (monitorc does not read pipes or devices, which would hang or never end)")
            } else if p.path.is_dir() {
                Diagnostic::new(
                    codes::FILE_UNREADABLE,
                    format!("`{}` is a directory", p.path.display()),
                )
                .help("include directories with `cfg_dir=`, files with `cfg_file=`")
            } else {
                Diagnostic::new(
                    codes::FILE_UNREADABLE,
                    format!("cannot read `{}`: {e}", p.path.display()),
                )
                .help("check the file's permissions")
            };
            return Err(at(d));
        }
    };
    // Nagios and Shinken read bytes; whether a file that is not UTF-8 is accepted depends on
    // the engine, known only once everything is loaded: keep its bytes (see
    // `monitorc_runtime::text`) and say where the first invalid one is.
    let (text, first) = monitorc_runtime::text::decode(bytes);
    let not_utf8 = first.map(|at| {
        let byte = text[at..]
            .chars()
            .next()
            .and_then(monitorc_runtime::text::unescape)
            .expect("the first invalid byte is escaped");
        (at, byte)
    });
    Ok((text, not_utf8))
}
