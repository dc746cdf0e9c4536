//! `cargo bench -p monitorc-bench --bench lsp`: keystroke to fresh diagnostics in
//! `monitorc lsp`, on generated trees of 10,000 and 100,000 hosts. The server runs in-process
//! on an in-memory connection, as a client would see it: one `didChange` types a character
//! into a host's `use` (an unknown template) or takes it out again, and a measurement ends
//! when the `publishDiagnostics` that reflects it arrives.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

// The allocator of the `monitorc` binary that editors run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn tree(hosts: usize) -> PathBuf {
    let dir = monitorc_bench::target_dir()
        .join("bench-data")
        .join(format!("lsp-{hosts}"));
    if !dir.join("monitorc.cfg").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        monitorc_bench::generate(&dir, hosts).expect("generate the tree");
    }
    dir
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

struct Session {
    client: Connection,
    server: Option<std::thread::JoinHandle<()>>,
    uri: String,
    text: String,
    /// Where the `use` value of the file's first host starts.
    line: u32,
    col: u32,
    version: i32,
}

impl Session {
    fn open(root: &Path) -> Session {
        let (server, client) = Connection::memory();
        let handle = std::thread::spawn(move || monitorc_lsp::serve(server).unwrap());
        let site = std::fs::read_dir(root.join("sites"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .min()
            .unwrap();
        let file = site.join("hosts-01.cfg");
        let text = std::fs::read_to_string(&file).unwrap();
        let (line, l) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.trim_start().starts_with("use"))
            .unwrap();
        let col = (l.len() - l["\tuse".len()..].trim_start().len()) as u32;
        client
            .sender
            .send(Message::Request(Request::new(
                RequestId::from(1),
                "initialize".into(),
                json!({"processId": null, "rootUri": uri(root), "capabilities": {}}),
            )))
            .unwrap();
        loop {
            if let Message::Response(_) = client.receiver.recv().unwrap() {
                break;
            }
        }
        let s = Session {
            client,
            server: Some(handle),
            uri: uri(&file),
            text,
            line: line as u32,
            col,
            version: 1,
        };
        s.notify("initialized", json!({}));
        s.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": s.uri, "languageId": "nagios", "version": 1, "text": s.text}}),
        );
        s
    }

    fn notify(&self, method: &str, params: Value) {
        self.client
            .sender
            .send(Message::Notification(Notification::new(
                method.into(),
                params,
            )))
            .unwrap();
    }

    /// Types (or deletes) one character at the start of the `use` value and waits for the
    /// diagnostics of the file that show it (some, or none).
    fn keystroke(&mut self, typo: bool) -> Duration {
        self.version += 1;
        let at = json!({"line": self.line, "character": self.col});
        let end = json!({"line": self.line, "character": self.col + u32::from(!typo)});
        let start = Instant::now();
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": self.uri, "version": self.version},
                   "contentChanges": [{"range": {"start": at, "end": end},
                                       "text": if typo { "x" } else { "" }}]}),
        );
        loop {
            let m = self
                .client
                .receiver
                .recv_timeout(Duration::from_secs(120))
                .expect("diagnostics within two minutes");
            if let Message::Notification(n) = m {
                if n.method == "textDocument/publishDiagnostics"
                    && n.params["uri"] == self.uri.as_str()
                    && n.params["diagnostics"]
                        .as_array()
                        .is_some_and(|d| d.is_empty())
                        != typo
                {
                    return start.elapsed();
                }
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.client.sender.send(Message::Request(Request::new(
            RequestId::from(2),
            "shutdown".into(),
            Value::Null,
        )));
        self.notify("exit", Value::Null);
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("lsp");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20));
    for hosts in [10_000, 100_000] {
        let root = tree(hosts);
        let mut s = Session::open(&root);
        // The first check, and its clean result, before measuring.
        s.keystroke(true);
        s.keystroke(false);
        let mut typo = false;
        g.bench_function(format!("keystroke_to_diagnostics_{hosts}_hosts"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        typo = !typo;
                        s.keystroke(typo)
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
