//! `monitorc lsp`: a language server over stdio (`lsp-server` + `lsp-types`, the crates
//! rust-analyzer is built on: a synchronous loop over channels, which suits a checker that
//! runs on its own rayon pool, without an async runtime).
//!
//! The workspace root is the main configuration found upward from the first file opened
//! (`nagios.cfg`, `shinken.cfg`, `alignak.ini`, `monitorc.cfg`), or else the workspace folder.
//! Every change re-checks the tree on a worker thread with the editor's open buffers standing
//! for their files ([`monitorc_grammar::Overlay`]), from what the previous check kept
//! ([`monitorc_compiler::Cache`]: only what changed is read, parsed, lowered, resolved and
//! indexed again); a newer edit cancels the check
//! of an older text (it stops at its next stage, and one still queued never starts), and only
//! the newest result is published. Requests (definition,
//! references, hover, completion, symbols, rename) are answered from the last result.

pub mod index;
pub mod text;

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{select, Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest, References, Rename,
    Request as _,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams, CompletionResponse,
    Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, Location, MarkupContent, MarkupKind, MessageType,
    NumberOrString, OneOf, Position, PublishDiagnosticsParams, ReferenceParams, RenameParams,
    ServerCapabilities, ShowMessageParams, SymbolKind, TextDocumentContentChangeEvent,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri, WorkspaceEdit,
};
use monitorc_compiler::grammar::{FileId, Overlay, Severity, SourceFile, Span};
use monitorc_compiler::schema::ObjectKind;
use monitorc_compiler::{Checked, Options};

use index::{Index, Space};
use text::Lines;

type Fallible<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// The main configuration files a root is recognised by, nearest first.
const MAIN_CONFIGS: &[&str] = &["monitorc.cfg", "nagios.cfg", "shinken.cfg", "alignak.ini"];

/// Runs the server on stdin/stdout until the client says `exit`.
pub fn run_stdio() -> Fallible<()> {
    let (connection, io) = Connection::stdio();
    serve(connection)?;
    // The client may close its end first; that is no failure once it said `exit`.
    let _ = io.join();
    Ok(())
}

/// Runs the server on `connection` (stdio, or an in-memory pair in tests).
pub fn serve(connection: Connection) -> Fallible<()> {
    let caps = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions::default()),
        document_symbol_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    let params = connection.initialize(serde_json::to_value(caps)?)?;
    let params: InitializeParams = serde_json::from_value(params)?;
    #[allow(deprecated)]
    let folder = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| f.uri.clone())
        .or(params.root_uri.clone())
        .and_then(|u| text::path(&u));
    let (jobs, job_rx) = crossbeam_channel::unbounded::<Job>();
    let (done_tx, done) = crossbeam_channel::unbounded::<Done>();
    let worker = std::thread::spawn(move || worker(job_rx, done_tx));
    let mut server = Server {
        conn: connection,
        folder,
        root: None,
        docs: HashMap::new(),
        analysis: None,
        published: HashSet::new(),
        generation: 0,
        jobs,
        running: None,
        shutdown: false,
    };
    let result = server.run(&done);
    drop(server);
    let _ = worker.join();
    result
}

/// An open document: the editor's text and version.
struct Doc {
    version: i32,
    text: String,
}

/// What one check produced.
struct Analysis {
    checked: Checked,
    index: Index,
    by_path: HashMap<PathBuf, FileId>,
}

struct Job {
    generation: u64,
    root: PathBuf,
    overlay: Arc<Overlay>,
    /// Set when a newer edit arrives: the check stops at its next stage.
    cancel: Arc<AtomicBool>,
    /// When the edit arrived.
    queued: Instant,
}

struct Done {
    generation: u64,
    root: PathBuf,
    result: Result<Analysis, String>,
    queued: Instant,
    /// How long the job waited, each stage took, and the index.
    timings: String,
}

/// With `MONITORC_LSP_TIMINGS` set, each published check writes its timings to stderr (which
/// editors keep in their language-server log).
fn timings_wanted() -> bool {
    static WANTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WANTED.get_or_init(|| std::env::var_os("MONITORC_LSP_TIMINGS").is_some())
}

/// Checks on its own thread; a job still queued behind a newer one is skipped.
fn worker(jobs: Receiver<Job>, done: Sender<Done>) {
    // What the previous checks read, lowered, resolved and indexed, taken again for what an
    // edit left alone.
    let mut cache = monitorc_compiler::Cache::default();
    let mut kept = Kept::default();
    while let Ok(mut job) = jobs.recv() {
        while let Ok(newer) = jobs.try_recv() {
            job = newer;
        }
        if job.cancel.load(Ordering::Relaxed) {
            continue;
        }
        let options = Options {
            overlay: Some(job.overlay.clone()),
            cancel: Some(job.cancel.clone()),
            ..Options::default()
        };
        let mut timings = format!("wait {:.1?}", job.queued.elapsed());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            monitorc_compiler::check_cached(&job.root, &options, &mut cache)
                .map(|(checked, stages)| {
                    let start = Instant::now();
                    let a = analyse(checked, &mut kept);
                    if timings_wanted() {
                        for (name, t) in stages {
                            timings.push_str(&format!(", {name} {t:.1?}"));
                        }
                        timings.push_str(&format!(", index {:.1?}", start.elapsed()));
                    }
                    a
                })
                .map_err(|e| e.to_string())
        }))
        .unwrap_or_else(|_| {
            // A panic may have left the cache half updated: start again from the files.
            cache = monitorc_compiler::Cache::default();
            kept = Kept::default();
            Err("the checker failed on this tree (a bug: please report it)".into())
        });
        if done
            .send(Done {
                generation: job.generation,
                root: job.root,
                result,
                queued: job.queued,
                timings,
            })
            .is_err()
        {
            return;
        }
    }
}

/// What the worker keeps between checks besides the compiler's cache: each file's index, and
/// its canonical path (valid while the file is the same one the loader read).
#[derive(Default)]
struct Kept {
    index: index::Cache,
    canonical: HashMap<PathBuf, (Arc<SourceFile>, PathBuf)>,
}

fn analyse(checked: Checked, kept: &mut Kept) -> Analysis {
    let index = Index::build(&checked, &mut kept.index);
    let mut canonicals = HashMap::with_capacity(checked.loaded.sources.len());
    let mut by_path = HashMap::with_capacity(checked.loaded.sources.len());
    for (id, f) in checked.loaded.sources.iter() {
        let shared = checked.loaded.sources.shared(id);
        let c = match kept.canonical.remove(&f.path) {
            Some((file, c)) if Arc::ptr_eq(&file, shared) => c,
            _ => canonical(&f.path),
        };
        by_path.insert(c.clone(), id);
        canonicals.insert(f.path.clone(), (shared.clone(), c));
    }
    kept.canonical = canonicals;
    Analysis {
        checked,
        index,
        by_path,
    }
}

struct Server {
    conn: Connection,
    folder: Option<PathBuf>,
    root: Option<PathBuf>,
    docs: HashMap<PathBuf, Doc>,
    analysis: Option<Arc<Analysis>>,
    /// Files that have diagnostics on the client, to clear when they have none.
    published: HashSet<PathBuf>,
    generation: u64,
    jobs: Sender<Job>,
    /// The cancel flag of the last check queued.
    running: Option<Arc<AtomicBool>>,
    /// `shutdown` was asked: only `exit` is awaited.
    shutdown: bool,
}

impl Server {
    fn run(&mut self, done: &Receiver<Done>) -> Fallible<()> {
        if let Some(root) = self.folder.as_deref().and_then(find_root_in) {
            self.root = Some(root);
            self.recheck();
        }
        loop {
            select! {
                recv(self.conn.receiver) -> msg => {
                    let Ok(msg) = msg else { return Ok(()) };
                    match msg {
                        // After `shutdown` only `exit` counts; a client that asks twice (Neovim
                        // does when it quits while stopping the server) is answered, not fatal.
                        Message::Request(req) if req.method == "shutdown" => {
                            self.shutdown = true;
                            self.send(Message::Response(Response::new_ok(req.id, ())))?;
                        }
                        Message::Request(req) if self.shutdown => {
                            self.send(Message::Response(Response::new_err(
                                req.id,
                                ErrorCode::InvalidRequest as i32,
                                "the server is shutting down".into(),
                            )))?;
                        }
                        Message::Request(req) => self.request(req)?,
                        Message::Notification(n) if n.method == "exit" => return Ok(()),
                        Message::Notification(n) => self.notification(n)?,
                        Message::Response(_) => {}
                    }
                }
                recv(done) -> d => {
                    let Ok(d) = d else { return Ok(()) };
                    self.finished(d)?;
                }
            }
        }
    }

    fn send(&self, msg: Message) -> Fallible<()> {
        self.conn.sender.send(msg)?;
        Ok(())
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) -> Fallible<()> {
        self.send(Message::Notification(Notification::new(
            N::METHOD.to_string(),
            params,
        )))
    }

    fn tell(&self, typ: MessageType, message: String) -> Fallible<()> {
        self.notify::<ShowMessage>(ShowMessageParams { typ, message })
    }

    /// Queues a check of the root with the open buffers.
    fn recheck(&mut self) {
        let queued = Instant::now();
        let Some(root) = self.root.clone() else {
            return;
        };
        self.generation += 1;
        let mut overlay = Overlay::default();
        for (p, d) in &self.docs {
            overlay.insert(p, d.text.clone());
        }
        // The check of an older text stops at its next stage.
        let cancel = Arc::new(AtomicBool::new(false));
        if let Some(old) = self.running.replace(cancel.clone()) {
            old.store(true, Ordering::Relaxed);
        }
        let _ = self.jobs.send(Job {
            generation: self.generation,
            root,
            overlay: Arc::new(overlay),
            cancel,
            queued,
        });
    }

    fn notification(&mut self, n: Notification) -> Fallible<()> {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let p: DidOpenTextDocumentParams = serde_json::from_value(n.params)?;
                let Some(path) = text::path(&p.text_document.uri) else {
                    return Ok(());
                };
                if self.root.is_none() {
                    self.root = find_root_from(&path).or_else(|| {
                        self.folder
                            .as_deref()
                            .filter(|f| path.starts_with(f))
                            .map(Path::to_path_buf)
                    });
                    if self.root.is_none() {
                        self.tell(
                            MessageType::WARNING,
                            format!(
                                "monitorc: no main configuration ({}) above {}; open the folder that holds it",
                                MAIN_CONFIGS.join(", "),
                                path.display()
                            ),
                        )?;
                    }
                }
                self.docs.insert(
                    canonical(&path),
                    Doc {
                        version: p.text_document.version,
                        text: p.text_document.text,
                    },
                );
                self.recheck();
            }
            DidChangeTextDocument::METHOD => {
                let p: DidChangeTextDocumentParams = serde_json::from_value(n.params)?;
                let Some(path) = text::path(&p.text_document.uri) else {
                    return Ok(());
                };
                let Some(doc) = self.docs.get_mut(&canonical(&path)) else {
                    // A change for a document that is not open: nothing to apply it to.
                    return self.tell(
                        MessageType::WARNING,
                        format!(
                            "monitorc: a change for {}, which is not open; ignored",
                            path.display()
                        ),
                    );
                };
                if p.text_document.version <= doc.version {
                    // Out of order: an older edit arriving late would undo a newer one.
                    let held = doc.version;
                    return self.tell(
                        MessageType::WARNING,
                        format!(
                            "monitorc: change {} of {} arrived after change {held}; ignored (reopen the file if it looks wrong)",
                            p.text_document.version,
                            path.display(),
                        ),
                    );
                }
                doc.version = p.text_document.version;
                for change in p.content_changes {
                    apply(&mut doc.text, change);
                }
                self.recheck();
            }
            DidSaveTextDocument::METHOD => {
                let _: DidSaveTextDocumentParams = serde_json::from_value(n.params)?;
                self.recheck();
            }
            DidCloseTextDocument::METHOD => {
                let p: DidCloseTextDocumentParams = serde_json::from_value(n.params)?;
                if let Some(path) = text::path(&p.text_document.uri) {
                    self.docs.remove(&canonical(&path));
                }
                self.recheck();
            }
            _ => {}
        }
        Ok(())
    }

    /// A check is done: the newest one's diagnostics are published.
    fn finished(&mut self, d: Done) -> Fallible<()> {
        if d.generation != self.generation {
            return Ok(());
        }
        let publish = Instant::now();
        let analysis = match d.result {
            Ok(a) => a,
            Err(e) => {
                return self.tell(
                    MessageType::ERROR,
                    format!("monitorc: cannot check {}: {e}", d.root.display()),
                )
            }
        };
        let mut per_file: HashMap<PathBuf, Vec<LspDiagnostic>> = HashMap::new();
        let c = &analysis.checked;
        for diag in &c.diagnostics {
            let (path, range) = match diag.primary {
                Some(s) => (
                    c.loaded.sources.path(s.file).to_path_buf(),
                    range_of(&analysis, s),
                ),
                None => (
                    diag.path.clone().unwrap_or_else(|| d.root.clone()),
                    lsp_types::Range::default(),
                ),
            };
            let mut message = diag.message.clone();
            if let Some(l) = &diag.label {
                message.push_str(&format!("\n{l}"));
            }
            if let Some(h) = &diag.help {
                message.push_str(&format!("\nhelp: {h}"));
            }
            for n in &diag.notes {
                message.push_str(&format!("\nnote: {n}"));
            }
            let mut related: Vec<DiagnosticRelatedInformation> = diag
                .secondary
                .iter()
                .map(|l| DiagnosticRelatedInformation {
                    location: location(&analysis, l.span),
                    message: l.message.clone(),
                })
                .collect();
            if let Some(s) = diag.primary {
                related.extend(affected(&analysis, s));
            }
            per_file
                .entry(canonical(&path))
                .or_default()
                .push(LspDiagnostic {
                    range,
                    severity: Some(match diag.severity() {
                        Severity::Error => DiagnosticSeverity::ERROR,
                        Severity::Warning => DiagnosticSeverity::WARNING,
                    }),
                    code: Some(NumberOrString::String(diag.code.code.to_string())),
                    source: Some("monitorc".into()),
                    message,
                    related_information: (!related.is_empty()).then_some(related),
                    ..LspDiagnostic::default()
                });
        }
        let stale: Vec<PathBuf> = self
            .published
            .iter()
            .filter(|p| !per_file.contains_key(*p))
            .cloned()
            .collect();
        for p in stale {
            self.publish(&p, Vec::new())?;
        }
        self.published = per_file.keys().cloned().collect();
        let mut files: Vec<_> = per_file.into_iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        for (p, diags) in files {
            self.publish(&p, diags)?;
        }
        // Freeing a large tree's analysis takes as long as a good part of checking it: the
        // previous one goes on another thread, at the lowest priority, so that it takes a
        // core the checker of the next edit leaves idle rather than slowing that check.
        let old = self.analysis.replace(Arc::new(analysis));
        std::thread::spawn(move || {
            // SAFETY: setpriority on the calling thread (Linux: `who` 0 is this thread only).
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
            drop(old)
        });
        if timings_wanted() {
            eprintln!(
                "monitorc lsp: edit to diagnostics {:.1?} ({}, publish {:.1?})",
                d.queued.elapsed(),
                d.timings,
                publish.elapsed()
            );
        }
        Ok(())
    }

    fn publish(&self, path: &Path, diagnostics: Vec<LspDiagnostic>) -> Fallible<()> {
        let version = self.docs.get(path).map(|d| d.version);
        self.notify::<PublishDiagnostics>(PublishDiagnosticsParams {
            uri: text::uri(path),
            diagnostics,
            version,
        })
    }

    fn request(&mut self, req: Request) -> Fallible<()> {
        let id = req.id.clone();
        let answer = match self.answer(req) {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(Message::Response(answer))
    }

    fn answer(&self, req: Request) -> Result<serde_json::Value, (ErrorCode, String)> {
        let bad = |e: serde_json::Error| (ErrorCode::InvalidParams, e.to_string());
        let a = self.analysis.clone();
        let json = |v: serde_json::Result<serde_json::Value>| {
            v.map_err(|e| (ErrorCode::InternalError, e.to_string()))
        };
        match req.method.as_str() {
            GotoDefinition::METHOD => {
                let p: GotoDefinitionParams = serde_json::from_value(req.params).map_err(bad)?;
                let pos = p.text_document_position_params;
                let r = a.as_deref().and_then(|a| {
                    let o = a.name_at(&pos.text_document.uri, pos.position)?;
                    let defs = Some(a.index.defs(o.space, &o.name)).filter(|d| !d.is_empty())?;
                    Some(GotoDefinitionResponse::Array(
                        defs.iter().map(|s| location(a, *s)).collect(),
                    ))
                });
                json(serde_json::to_value(r))
            }
            References::METHOD => {
                let p: ReferenceParams = serde_json::from_value(req.params).map_err(bad)?;
                let pos = p.text_document_position;
                let r = a.as_deref().and_then(|a| {
                    let o = a.name_at(&pos.text_document.uri, pos.position)?;
                    let spans: Vec<Location> = a
                        .index
                        .all(o.space, &o.name, p.context.include_declaration)
                        .into_iter()
                        .map(|s| location(a, s))
                        .collect();
                    Some(spans)
                });
                json(serde_json::to_value(r))
            }
            Rename::METHOD => {
                let p: RenameParams = serde_json::from_value(req.params).map_err(bad)?;
                let pos = p.text_document_position;
                let Some(a) = a.as_deref() else {
                    return Err((
                        ErrorCode::RequestFailed,
                        "the tree is not checked yet".into(),
                    ));
                };
                let Some(o) = a.name_at(&pos.text_document.uri, pos.position) else {
                    return Err((
                        ErrorCode::RequestFailed,
                        "no name here to rename (or the file is not part of the tree)".into(),
                    ));
                };
                if p.new_name.is_empty() || p.new_name.contains([',', ' ', '\t', '\n', ';', '!']) {
                    return Err((
                        ErrorCode::InvalidParams,
                        format!("`{}` cannot be a name", p.new_name),
                    ));
                }
                // The protocol's own type keys edits by URI.
                #[allow(clippy::mutable_key_type)]
                let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                for s in a.index.all(o.space, &o.name, true) {
                    let l = location(a, s);
                    changes.entry(l.uri).or_default().push(TextEdit {
                        range: l.range,
                        new_text: p.new_name.clone(),
                    });
                }
                json(serde_json::to_value(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }))
            }
            HoverRequest::METHOD => {
                let p: HoverParams = serde_json::from_value(req.params).map_err(bad)?;
                let pos = p.text_document_position_params;
                let r = a
                    .as_deref()
                    .and_then(|a| hover(a, &pos.text_document.uri, pos.position));
                json(serde_json::to_value(r))
            }
            Completion::METHOD => {
                let p: CompletionParams = serde_json::from_value(req.params).map_err(bad)?;
                let pos = p.text_document_position;
                let text = text::path(&pos.text_document.uri)
                    .and_then(|path| self.docs.get(&canonical(&path)))
                    .map(|d| d.text.as_str());
                let r = a
                    .as_deref()
                    .and_then(|a| complete(a, &pos.text_document.uri, pos.position, text))
                    .map(CompletionResponse::Array);
                json(serde_json::to_value(r))
            }
            DocumentSymbolRequest::METHOD => {
                let p: DocumentSymbolParams = serde_json::from_value(req.params).map_err(bad)?;
                let r = a.as_deref().and_then(|a| {
                    let path = text::path(&p.text_document.uri)?;
                    let file = *a.by_path.get(&canonical(&path))?;
                    let blocks = &a.index.files.get(&file)?.blocks;
                    #[allow(deprecated)]
                    let symbols = blocks
                        .iter()
                        .map(|b| DocumentSymbol {
                            name: b.label.clone(),
                            detail: None,
                            kind: if b.label.contains(" template ") {
                                SymbolKind::CLASS
                            } else {
                                SymbolKind::OBJECT
                            },
                            tags: None,
                            deprecated: None,
                            range: range_of(a, b.span),
                            selection_range: range_of(a, b.header),
                            children: None,
                        })
                        .collect();
                    Some(DocumentSymbolResponse::Nested(symbols))
                });
                json(serde_json::to_value(r))
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("monitorc does not answer `{}`", req.method),
            )),
        }
    }
}

impl Analysis {
    /// The name written at a position.
    fn name_at(&self, uri: &Uri, pos: Position) -> Option<&index::Occurrence> {
        let (file, offset) = self.at(uri, pos)?;
        self.index.at(file, offset)
    }

    /// The file and byte offset of a position in a document of the tree.
    fn at(&self, uri: &Uri, pos: Position) -> Option<(FileId, usize)> {
        let path = text::path(uri)?;
        let file = *self.by_path.get(&canonical(&path))?;
        let f = self.checked.loaded.sources.get(file);
        Some((file, text::offset(&f.text, f.line_starts(), pos)))
    }
}

/// At most this many objects are listed under a diagnostic in a template.
const AFFECTED_SHOWN: usize = 20;

/// A diagnostic inside a template: the objects that use it (directly), each at its `define`.
fn affected(a: &Analysis, s: Span) -> Vec<DiagnosticRelatedInformation> {
    let Some(b) = a.index.block(s.file, s.start as usize) else {
        return Vec::new();
    };
    let o = &a.checked.ir.objects[b.object];
    let Some(name) = o.get_str("name").filter(|_| !o.register) else {
        return Vec::new();
    };
    let users = a.index.all(Space::Template(o.kind), name, false);
    let mut out: Vec<DiagnosticRelatedInformation> = users
        .iter()
        .filter_map(|u| a.index.block(u.file, u.start as usize))
        .take(AFFECTED_SHOWN)
        .map(|user| DiagnosticRelatedInformation {
            location: location(a, user.header),
            message: format!("{} uses template `{name}`", user.label),
        })
        .collect();
    if users.len() > AFFECTED_SHOWN {
        out.push(DiagnosticRelatedInformation {
            location: location(a, o.header),
            message: format!(
                "and {} more objects use template `{name}`",
                users.len() - AFFECTED_SHOWN
            ),
        });
    }
    out
}

fn range_of(a: &Analysis, s: Span) -> lsp_types::Range {
    let f = a.checked.loaded.sources.get(s.file);
    text::range(&f.text, f.line_starts(), s.start as usize, s.end as usize)
}

fn location(a: &Analysis, s: Span) -> Location {
    let path = a.checked.loaded.sources.path(s.file);
    Location::new(text::uri(&canonical(path)), range_of(a, s))
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The nearest main configuration at or above the directory of `file`.
fn find_root_from(file: &Path) -> Option<PathBuf> {
    file.ancestors().skip(1).find_map(find_root_in)
}

fn find_root_in(dir: &Path) -> Option<PathBuf> {
    MAIN_CONFIGS
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Applies one change to a document's text (a whole-text change, or a range).
fn apply(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(r) => {
            let lines = Lines::new(text);
            let start = lines.offset(text, r.start);
            let end = lines.offset(text, r.end).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

/// What the cursor is on: a name (what it names, where it is defined; for a host, its realm,
/// scheduler, pack and services), or an attribute of a host or service (its resolved value
/// and where that came from).
fn hover(a: &Analysis, uri: &Uri, pos: Position) -> Option<Hover> {
    let (file, offset) = a.at(uri, pos)?;
    let c = &a.checked;
    let place = |s: Span| {
        format!(
            "{}:{}",
            c.loaded.sources.path(s.file).display(),
            c.loaded.sources.location(s).line
        )
    };
    let mut md = String::new();
    if let Some(o) = a.index.at(file, offset) {
        md.push_str(&format!("**{}** `{}`", o.space.describe(), o.name));
        match Some(a.index.defs(o.space, &o.name)).filter(|d| !d.is_empty()) {
            Some(defs) => {
                let at: Vec<String> = defs.iter().map(|s| place(*s)).collect();
                md.push_str(&format!(", defined at {}", at.join(", ")));
            }
            None => md.push_str(", defined nowhere in the tree"),
        }
        if o.space == Space::Object(ObjectKind::Host) {
            if let Ok(e) = monitorc_compiler::explain::host(c, &o.name) {
                if let Some(p) = &e.placement {
                    md.push_str(&format!(
                        "\n\nrealm `{}`, scheduler `{}`, pack of {} host(s)",
                        p.realm,
                        p.scheduler.as_deref().unwrap_or("none"),
                        p.pack.len()
                    ));
                }
                md.push_str(&format!(
                    "\n\n{} service(s): {}",
                    e.services.len(),
                    e.services.join(", ")
                ));
            }
        }
    } else {
        let b = a.index.block(file, offset)?;
        let o = &c.ir.objects[b.object];
        let attr = o
            .attrs
            .iter()
            .find(|x| x.key_span.start as usize <= offset && offset <= x.value_span.end as usize)?;
        let explained = match o.kind {
            ObjectKind::Host => o
                .name()
                .and_then(|n| monitorc_compiler::explain::host(c, n).ok()),
            ObjectKind::Service => o.get_str("service_description").and_then(|d| {
                let host = o.get_str("host_name")?.split(',').next()?.trim();
                monitorc_compiler::explain::service(c, host, d).ok()
            }),
            _ => None,
        };
        let resolved = explained
            .as_ref()
            .and_then(|e| e.attributes.iter().find(|x| x.name == *attr.name));
        match resolved {
            Some(x) => {
                md.push_str(&format!(
                    "`{}` = `{}` for {} `{}`",
                    x.name,
                    x.value,
                    o.kind.keyword(),
                    explained.as_ref().map_or("", |e| e.name.as_str())
                ));
                for origin in &x.origins {
                    md.push_str(&format!(
                        "\n\nset at {}:{}{}",
                        origin.file,
                        origin.line,
                        origin
                            .template
                            .as_ref()
                            .map(|t| format!(" (template `{t}`)"))
                            .unwrap_or_default()
                    ));
                }
            }
            None => md.push_str(&format!("`{}` = `{}`", attr.name, attr.raw)),
        }
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: md,
        }),
        range: None,
    })
}

/// Attribute names at the start of a line in a block; the names a value can take after a
/// key that names objects (`use`, `hostgroups`, `check_command`…).
fn complete(
    a: &Analysis,
    uri: &Uri,
    pos: Position,
    live: Option<&str>,
) -> Option<Vec<CompletionItem>> {
    // The block: found in the checked text at the same position.
    let (file, checked_offset) = a.at(uri, pos)?;
    // The line as the editor has it now (the analysis may be a keystroke behind).
    let text = live.unwrap_or(&a.checked.loaded.sources.get(file).text);
    let offset = Lines::new(text).offset(text, pos);
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    let kind = a.index.block(file, checked_offset).map(|b| b.kind)?;
    let trimmed = before.trim_start();
    let items: Vec<CompletionItem> = if !trimmed.contains(char::is_whitespace) {
        kind.attributes()
            .iter()
            .filter(|(n, _)| n.starts_with(trimmed))
            .map(|(n, _)| CompletionItem {
                label: (*n).to_string(),
                kind: Some(CompletionItemKind::PROPERTY),
                ..CompletionItem::default()
            })
            .collect()
    } else {
        let key = trimmed.split_whitespace().next()?;
        let space = if key == "use" {
            Space::Template(kind)
        } else {
            Space::Object(index::target(kind, key)?)
        };
        a.index
            .names(space)
            .into_iter()
            .map(|n| CompletionItem {
                label: n.to_string(),
                kind: Some(CompletionItemKind::REFERENCE),
                detail: Some(space.describe()),
                ..CompletionItem::default()
            })
            .collect()
    };
    Some(items)
}
