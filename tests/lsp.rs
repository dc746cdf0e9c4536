//! `monitorc lsp` driven over stdio with the protocol's own framing, as an editor does, on the
//! bundled example: diagnostics as a typo comes and goes, definition, references, hover,
//! completion, symbols, rename, and bad input that must not stop the server.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications received while waiting for something else.
    notes: Vec<Value>,
    next: u64,
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(p: &Path) -> String {
    monitorc_lsp::text::uri(p).as_str().to_string()
}

impl Client {
    fn start(folder: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_monitorc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = std::sync::mpsc::channel();
        std::thread::spawn(move || loop {
            let mut len = None;
            loop {
                let mut header = String::new();
                if out.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some(n) = header.strip_prefix("Content-Length: ") {
                    len = n.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; len.expect("a Content-Length header")];
            out.read_exact(&mut body).unwrap();
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        let mut c = Client {
            child,
            stdin,
            incoming,
            notes: Vec::new(),
            next: 0,
        };
        let init = c.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(folder), "capabilities": {}}),
        );
        assert!(init["capabilities"]["definitionProvider"] == true, "{init}");
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The whole response (`result` or `error`).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self
                .recv(20)
                .unwrap_or_else(|| panic!("no answer to {method}"));
            if m["id"] == id {
                return m;
            }
            self.notes.push(m);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let m = self.call(method, params);
        assert!(m.get("error").is_none(), "{method}: {m}");
        m["result"].clone()
    }

    fn recv(&mut self, secs: u64) -> Option<Value> {
        match self.incoming.recv_timeout(Duration::from_secs(secs)) {
            Ok(v) => Some(v),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the server went away"),
        }
    }

    /// The next `window/showMessage` that says `needle`.
    fn message(&mut self, needle: &str) {
        self.wait_for("window/showMessage", 10, |p| {
            p["message"].as_str().is_some_and(|m| m.contains(needle))
        });
    }

    /// The next notification `method` that `pred` accepts (earlier ones are kept).
    fn wait_for(&mut self, method: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self
            .notes
            .iter()
            .position(|m| m["method"] == method && pred(&m["params"]))
        {
            return self.notes.remove(i)["params"].clone();
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            if let Some(m) = self.recv(1) {
                if m["method"] == method && pred(&m["params"]) {
                    return m["params"].clone();
                }
                self.notes.push(m);
            }
        }
        panic!(
            "no {method} as expected within {secs} s; got {:?}",
            self.notes
        );
    }
}

/// `KEY` of each entry of the array `v`.
fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap())
        .collect()
}

fn pos(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

/// The 0-based line and column of the first `needle` in `text` after line `from`.
fn find(text: &str, from: usize, needle: &str) -> (u32, u32) {
    for (i, l) in text.lines().enumerate().skip(from) {
        if let Some(c) = l.find(needle) {
            return (i as u32, c as u32);
        }
    }
    panic!("`{needle}` not found");
}

fn example() -> PathBuf {
    std::fs::canonicalize(common::root().join("fixtures/example")).unwrap()
}

#[test]
fn an_editor_session_on_the_example() {
    let folder = example();
    let paris = folder.join("objects/hosts/paris.cfg");
    let templates = folder.join("objects/templates/hosts.cfg");
    let text = std::fs::read_to_string(&paris).unwrap();
    let (p_uri, t_uri) = (uri(&paris), uri(&templates));
    let mut c = Client::start(&folder);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": p_uri, "languageId": "nagios", "version": 1, "text": text}}),
    );
    // Symbols once the first check is done: one per `define`, hosts by name.
    let start = Instant::now();
    let symbols = loop {
        let s = c.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": p_uri}}),
        );
        if !s.is_null() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never checked");
        std::thread::sleep(Duration::from_millis(50));
    };
    let names = strings(&symbols, "name");
    assert!(names.contains(&"host paris-gw"), "{names:?}");
    assert_eq!(
        names.len(),
        text.matches("define host").count(),
        "{names:?}"
    );

    // Definition of a template named in `use`.
    let (line, col) = find(&text, 0, "paris-site,production");
    let d = c.request("textDocument/definition", pos(&p_uri, line, col + 2));
    let tpl = std::fs::read_to_string(&templates).unwrap();
    let (tline, tcol) = find(&tpl, 0, "name\t\t\tparis-site");
    assert_eq!(d[0]["uri"], t_uri, "{d}");
    assert_eq!(d[0]["range"]["start"]["line"], tline, "{d}");
    assert_eq!(
        d[0]["range"]["start"]["character"],
        tcol + "name\t\t\t".len() as u32,
        "{d}"
    );

    // References: every `use` of it, and its definition.
    let r = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": p_uri}, "position": {"line": line, "character": col},
               "context": {"includeDeclaration": true}}),
    );
    let uses = text.matches("paris-site").count();
    assert_eq!(r.as_array().unwrap().len(), uses + 1, "{r}");

    // Hover on a parent: where it runs.
    let (pl, pc) = find(&text, 0, "parents\t\t\tparis-gw");
    let h = c.request("textDocument/hover", pos(&p_uri, pl, pc + 12));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("**host** `paris-gw`"), "{md}");
    assert!(md.contains("realm `Europe`"), "{md}");
    assert!(md.contains("scheduler `scheduler-paris-"), "{md}");
    // Hover on an attribute: its resolved value and where it came from.
    let (al, _) = find(&text, 0, "alias\t\t\tParis edge router");
    let h = c.request("textDocument/hover", pos(&p_uri, al, 1));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("`alias` = `Paris edge router`"), "{md}");

    // Completion: template names after `use`, attribute names at a line's start.
    let items = c.request("textDocument/completion", pos(&p_uri, line, col));
    let labels = strings(&items, "label");
    assert!(
        labels.contains(&"generic-host") && labels.contains(&"tokyo-site"),
        "{labels:?}"
    );
    let (al1, _) = (al + 1, 0);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": p_uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": al1, "character": 0},
                                             "end": {"line": al1, "character": 0}},
                                   "text": "\tcheck_inter\n"}]}),
    );
    let items = c.request("textDocument/completion", pos(&p_uri, al1, 12));
    let labels = strings(&items, "label");
    assert!(labels.contains(&"check_interval"), "{labels:?}");
    assert!(!labels.contains(&"address"), "{labels:?}");

    // A typo: reported on the line; gone once mended.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": p_uri, "version": 3},
               "contentChanges": [{"text": text.replacen("use\t\t\tparis-site,", "use\t\t\tparis-sitee,", 1)}]}),
    );
    let diags = c.wait_for("textDocument/publishDiagnostics", 30, |p| {
        p["uri"] == p_uri && p["diagnostics"].as_array().is_some_and(|d| !d.is_empty())
    });
    let d = &diags["diagnostics"][0];
    assert!(
        d["message"].as_str().unwrap().contains("paris-sitee"),
        "{d}"
    );
    assert_eq!(d["range"]["start"]["line"], line, "{d}");
    assert_eq!(d["source"], "monitorc");
    assert!(d["code"].as_str().unwrap().starts_with(['E', 'W']), "{d}");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": p_uri, "version": 4}, "contentChanges": [{"text": text}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", 30, |p| {
        p["uri"] == p_uri && p["diagnostics"].as_array().is_some_and(Vec::is_empty)
    });

    // A mistake in a template: the hosts that use it are listed with the diagnostic.
    let broken = tpl.replacen(
        "\tname\t\t\tparis-site\n",
        "\tname\t\t\tparis-site\n\tmax_check_attempts\tthree\n",
        1,
    );
    assert_ne!(broken, tpl);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": t_uri, "languageId": "nagios", "version": 1, "text": broken}}),
    );
    let diags = c.wait_for("textDocument/publishDiagnostics", 30, |p| {
        p["uri"] == t_uri && p["diagnostics"].as_array().is_some_and(|d| !d.is_empty())
    });
    let d = &diags["diagnostics"][0];
    assert_eq!(d["code"], "E0020", "{d}");
    let related = strings(&d["relatedInformation"], "message");
    assert!(
        related.contains(&"host paris-gw uses template `paris-site`"),
        "{related:?}"
    );
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": t_uri}}),
    );
    c.wait_for("textDocument/publishDiagnostics", 30, |p| {
        p["uri"] == t_uri && p["diagnostics"].as_array().is_some_and(Vec::is_empty)
    });

    // Rename a template: every place it is written.
    let edit = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": p_uri}, "position": {"line": line, "character": col},
               "newName": "paris-dc1"}),
    );
    let changes = edit["changes"].as_object().unwrap();
    let total: usize = changes.values().map(|v| v.as_array().unwrap().len()).sum();
    assert_eq!(total, uses + 1, "{edit}");
    assert!(changes.contains_key(&t_uri));

    // Bad input: the server says so and goes on.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": p_uri, "version": 2}, "contentChanges": [{"text": "garbage {"}]}),
    );
    c.message("arrived after change 4");
    let closed = uri(&folder.join("objects/hosts/tokyo.cfg"));
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": closed, "version": 9}, "contentChanges": [{"text": "x"}]}),
    );
    c.message("not open");
    let unknown = c.call("textDocument/formatting", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let bad = c.call("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let outside = c.request("textDocument/definition", pos("file:///etc/hostname", 0, 0));
    assert!(outside.is_null(), "{outside}");
    // An unclosed block while typing: a diagnostic, not a crash.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": p_uri, "version": 5},
               "contentChanges": [{"text": format!("{text}\ndefine host {{\n\thost_name half")}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", 30, |p| {
        p["uri"] == p_uri
            && p["diagnostics"].as_array().is_some_and(|d| {
                d.iter()
                    .any(|d| d["code"] == "E0010" || d["code"] == "W0019")
            })
    });
    assert!(c
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": p_uri}})
        )
        .is_array());

    // Shutdown, exit: the process ends cleanly.
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    let start = Instant::now();
    loop {
        if let Some(status) = c.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A 100 MB file in the tree, opened in the editor and edited: its diagnostics come, the
/// server answers requests from the previous analysis while it checks, and an edit at the end
/// of the buffer is checked again.
#[test]
fn a_100_mb_file_is_checked_while_the_server_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let folder = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::write(
        folder.join("nagios.cfg"),
        "cfg_file=objects.cfg\ncfg_file=big.cfg\n",
    )
    .unwrap();
    let objects = folder.join("objects.cfg");
    std::fs::write(
        &objects,
        "define command {\n command_name true\n command_line /bin/true\n}\n",
    )
    .unwrap();
    // 1,234,567 comment lines of 81 bytes, then a line that is not configuration.
    let comment = format!("# {}\n", "x".repeat(78));
    let lines = 100_000_000 / comment.len();
    let mut big_text = comment.repeat(lines);
    big_text.push_str("this line is not configuration\n");
    let big = folder.join("big.cfg");
    std::fs::write(&big, &big_text).unwrap();
    let (o_uri, b_uri) = (uri(&objects), uri(&big));
    let mut c = Client::start(&folder);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": o_uri, "languageId": "nagios", "version": 1,
                               "text": std::fs::read_to_string(&objects).unwrap()}}),
    );
    let on_big = |p: &Value| p["uri"] == b_uri.as_str();
    let first = c.wait_for("textDocument/publishDiagnostics", 120, on_big);
    assert_eq!(first["diagnostics"][0]["code"], "E0013", "{first}");
    assert_eq!(first["diagnostics"][0]["range"]["start"]["line"], lines);

    // The buffer itself, 100 MB in one message: while it is checked, a request is answered
    // (from the analysis before it) ahead of the new diagnostics. Those carry the buffer's
    // version (a check of the files on disk still under way may publish without one).
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": b_uri, "languageId": "nagios", "version": 1, "text": big_text}}),
    );
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": o_uri}}),
    );
    assert_eq!(strings(&symbols, "name"), ["command true"]);
    let of_buffer = |p: &Value| on_big(p) && p["version"] == 1;
    assert!(
        !c.notes.iter().any(|m| of_buffer(&m["params"])),
        "the request waited for the check of the 100 MB buffer"
    );
    let again = c.wait_for("textDocument/publishDiagnostics", 120, of_buffer);
    assert_eq!(again["diagnostics"][0]["code"], "E0013", "{again}");

    // The last line taken out of the buffer: the file is clean.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": b_uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": lines, "character": 0},
                                             "end": {"line": lines + 1, "character": 0}},
                                   "text": ""}]}),
    );
    c.wait_for("textDocument/publishDiagnostics", 120, |p| {
        on_big(p) && p["diagnostics"].as_array().is_some_and(|d| d.is_empty())
    });
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
}
