//! The cached check (`compiler::check_cached`, what the language server runs on every edit)
//! gives exactly what a check from scratch gives, after every kind of edit: in an editor's
//! buffer (an overlay) or on disk, to an object, a template, the main configuration, the
//! set of files, and between engines. Everything a check returns is compared: diagnostics,
//! objects, resolutions, the model, the plan and the counts.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use monitorc_compiler::grammar::Overlay;
use monitorc_compiler::{check_cached, check_timed, Cache, Checked, Engine, EngineChoice, Options};
use monitorc_lsp::index::{self, Index};

fn digest(c: &Checked) -> String {
    // The model and the plan hold hash maps (name → index), printed in no fixed order: their
    // lines are compared sorted.
    let sorted = |s: String| {
        let mut lines: Vec<&str> = s.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    format!(
        "{:#?}\n{:#?}\n{:#?}\n{}\n{}\n{:#?}\n{:?}",
        c.diagnostics,
        c.ir,
        c.resolved,
        sorted(format!("{:#?}", c.model)),
        sorted(format!("{:#?}", c.plan)),
        c.summary,
        c.engine
    )
}

fn index_digest(index: &Index) -> String {
    let mut files: Vec<_> = index.files.iter().collect();
    files.sort_by_key(|(id, _)| **id);
    let mut out = String::new();
    for (id, f) in files {
        let mut defs: Vec<_> = f
            .defs
            .iter()
            .flat_map(|(space, names)| names.iter().map(move |(n, s)| (space, n, s)))
            .collect();
        defs.sort();
        out.push_str(&format!(
            "{id:?}\n{:#?}\n{:#?}\n{defs:#?}\n",
            f.occurrences, f.blocks
        ));
    }
    out
}

/// A tree checked again and again with one cache, each time against a fresh check.
struct Session {
    main: PathBuf,
    cache: Cache,
    index: index::Cache,
    overlay: Overlay,
    engine: EngineChoice,
}

impl Session {
    fn new(main: PathBuf) -> Session {
        Session {
            main,
            cache: Cache::default(),
            index: index::Cache::default(),
            overlay: Overlay::default(),
            engine: EngineChoice::default(),
        }
    }

    /// Checks with the cache and without; they must agree. Returns the diagnostic codes.
    fn check(&mut self, what: &str) -> Vec<String> {
        let options = Options {
            overlay: Some(Arc::new(self.overlay.clone())),
            engine: self.engine,
            ..Options::default()
        };
        let (cached, _) = check_cached(&self.main, &options, &mut self.cache).unwrap();
        let (fresh, _) = check_timed(&self.main, &options).unwrap();
        // The language server's index of names, built per file from what did not change.
        let kept = Index::build(&cached, &mut self.index);
        let anew = Index::build(&fresh, &mut index::Cache::default());
        let (a, b) = (
            digest(&cached) + &index_digest(&kept),
            digest(&fresh) + &index_digest(&anew),
        );
        if a != b {
            let line = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            panic!(
                "after {what}: the cached check differs from a fresh one at line {line}:\ncached: {}\nfresh:  {}",
                a.lines().nth(line).unwrap_or(""),
                b.lines().nth(line).unwrap_or("")
            );
        }
        cached
            .diagnostics
            .iter()
            .map(|d| d.code.code.to_string())
            .collect()
    }

    /// The editor's text of `file`: its buffer, else the file.
    fn text(&self, file: &Path) -> String {
        self.overlay
            .get(file)
            .map(str::to_string)
            .unwrap_or_else(|| std::fs::read_to_string(file).unwrap())
    }

    /// Replaces the first `from` of the buffer of `file` by `to`.
    fn edit(&mut self, file: &Path, from: &str, to: &str) {
        let text = self.text(file);
        assert!(text.contains(from), "{} has no `{from}`", file.display());
        self.overlay.insert(file, text.replacen(from, to, 1));
    }
}

/// Sets a file's modification time (so that its stamp is old enough to be trusted).
fn touch(file: &Path, when: &str) {
    let ok = Command::new("touch")
        .args(["-d", when])
        .arg(file)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn a_cached_check_equals_a_fresh_one_after_every_kind_of_edit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("example");
    common::copy_dir(&common::root().join("fixtures/example"), &root);
    // Files old enough to be taken again unread.
    for e in walk(&root) {
        touch(&e, "1 hour ago");
    }
    let hosts = root.join("objects/hosts/paris.cfg");
    let templates = root.join("objects/templates/hosts.cfg");
    let mut s = Session::new(root.join("monitorc.cfg"));
    let clean = s.check("the first check");
    assert!(
        clean.iter().all(|c| c.starts_with('W')),
        "the example has errors: {clean:?}"
    );
    assert_eq!(s.check("no change"), clean);

    // A host's `use` mistyped, then mended.
    s.edit(&hosts, "use\t\t\tparis-site,", "use\t\t\tparis-sitex,");
    assert!(s
        .check("a typo in a host's use")
        .contains(&"W0014".to_string()));
    s.edit(&hosts, "paris-sitex,", "paris-site,");
    assert_eq!(s.check("the typo mended"), clean);

    // A host's own value, and one it inherits.
    s.edit(&hosts, "address\t\t\t10.1.0.1", "address\t\t\t10.1.0.99");
    s.check("a host's address");
    s.edit(
        &templates,
        "max_check_attempts\t\t3",
        "max_check_attempts\t\t4",
    );
    s.check("a template's value");
    s.edit(
        &templates,
        "max_check_attempts\t\t4",
        "max_check_attempts\t\tfour",
    );
    s.check("a template's value of the wrong type");

    // A template renamed (its users lose it), and a new template.
    s.edit(
        &templates,
        "name\t\t\t\tgeneric-host",
        "name\t\t\t\tgeneric-hostx",
    );
    s.check("a template renamed");
    s.edit(
        &templates,
        "name\t\t\t\tgeneric-hostx",
        "name\t\t\t\tgeneric-host",
    );
    s.edit(
        &templates,
        "# Base of every host",
        "define host{\n\tname\tspare-template\n\tregister\t0\n}\n# Base of every host",
    );
    s.check("a template added");

    // Objects added and taken away (every later object moves).
    s.edit(
        &hosts,
        "# --- Network",
        "define host{\n\thost_name\tparis-new\n\tuse\tparis-site,production,network-device\n\taddress\t10.1.0.250\n}\n# --- Network",
    );
    s.check("a host added");
    let text = s.text(&hosts);
    let start = text.find("define host{").unwrap();
    let end = start + text[start..].find("}\n").unwrap() + 2;
    s.overlay
        .insert(&hosts, format!("{}{}", &text[..start], &text[end..]));

    // A block left open, then closed again.
    let added = s.check("a host taken away");
    s.edit(
        &hosts,
        "_UPLINK_IFINDEX\t\t3\n}\n",
        "_UPLINK_IFINDEX\t\t3\n",
    );
    assert_ne!(s.check("a block left open"), added);
    s.edit(
        &hosts,
        "_UPLINK_IFINDEX\t\t3\n",
        "_UPLINK_IFINDEX\t\t3\n}\n",
    );
    assert_eq!(s.check("the block closed"), added);

    // Another engine's semantics on the same files.
    s.engine = EngineChoice::Given(Engine::Nagios);
    let nagios = s.check("the engine changed to nagios");
    // The main configuration: a parameter that lowering reads (Nagios checks names with it).
    let main = root.join("monitorc.cfg");
    s.edit(
        &main,
        "illegal_object_name_chars=`",
        "illegal_object_name_chars=-`",
    );
    let illegal = s.check("illegal_object_name_chars set");
    assert!(illegal.len() > nagios.len(), "{illegal:?}");
    s.edit(
        &main,
        "illegal_object_name_chars=-`",
        "illegal_object_name_chars=`",
    );
    assert_eq!(s.check("illegal_object_name_chars unset"), nagios);
    s.engine = EngineChoice::Auto;
    s.check("the engine back to auto");

    // Buffers closed: the files on disk count again.
    s.overlay = Overlay::default();
    assert_eq!(s.check("every buffer closed"), clean);

    // A file changed on disk with the same size, its stamp old enough to be trusted.
    let text = std::fs::read_to_string(&hosts).unwrap();
    std::fs::write(&hosts, text.replacen("paris-site,", "paris-sitx,", 1)).unwrap();
    touch(&hosts, "30 minutes ago");
    assert!(s
        .check("a file changed on disk")
        .contains(&"W0014".to_string()));
    // Just written (too recent to trust its stamp): read again.
    std::fs::write(&hosts, text.replacen("paris-site,", "paris-sitz,", 1)).unwrap();
    assert!(s
        .check("a file just written")
        .contains(&"W0014".to_string()));
    std::fs::write(&hosts, &text).unwrap();
    assert_eq!(s.check("the file mended on disk"), clean);

    // A file added to a directory that is read before others (every later file moves), then
    // removed.
    let extra = root.join("objects/aaa.cfg");
    std::fs::write(
        &extra,
        "define command{\n\tcommand_name\textra\n\tcommand_line\t/bin/true\n}\n",
    )
    .unwrap();
    s.check("a file added");
    std::fs::remove_file(&extra).unwrap();
    assert_eq!(s.check("the file removed"), clean);
}

/// The same on a larger generated tree (dependencies, escalations, groups, many files), for
/// the edits an administrator makes most: a host's template and a template's value.
#[test]
fn a_cached_check_equals_a_fresh_one_on_a_generated_tree() {
    let dir = tempfile::tempdir().unwrap();
    monitorc_bench::generate_with(dir.path(), 300, true).unwrap();
    let main = dir.path().join("monitorc.cfg");
    let mut s = Session::new(main);
    s.check("the first check");
    let site = std::fs::read_dir(dir.path().join("sites"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let hosts = site.join("hosts-01.cfg");
    let text = s.text(&hosts);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("use"))
        .unwrap()
        .to_string();
    s.edit(
        &hosts,
        &line,
        &line.replacen("use", "use x", 1).replacen("x ", "x", 1),
    );
    assert!(s
        .check("a host's use mistyped")
        .iter()
        .any(|c| c == "W0014"));
    s.edit(&hosts, "hostgroups", "hostgroups\tno-such-group,");
    s.check("a host in an unknown group");
    s.overlay = Overlay::default();
    s.check("the buffer closed");
}

/// Random edits, as a person typing and deleting makes them (characters that matter to the
/// syntax included), each followed by both checks: 300 steps over the example's files, from
/// fixed seeds.
#[test]
fn random_edits_keep_the_cached_check_exact() {
    let root = common::root().join("fixtures/example");
    let files: Vec<PathBuf> = walk(&root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    let alphabet: Vec<char> = "{}\n\t ,;!+-_x0#\\".chars().collect();
    for seed in 1..=3u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut s = Session::new(root.join("monitorc.cfg"));
        s.check("the first check");
        for step in 0..100 {
            let file = &files[rng.usize(..files.len())];
            let mut text = s.text(file);
            let mut at = rng.usize(..=text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let what = match rng.u8(..4) {
                // Delete up to 20 bytes.
                0 => {
                    let mut end = (at + rng.usize(1..20)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(at..end, "");
                    "a deletion"
                }
                // Type a word of the syntax's own characters.
                1 | 2 => {
                    let word: String = (0..rng.usize(1..6))
                        .map(|_| alphabet[rng.usize(..alphabet.len())])
                        .collect();
                    text.insert_str(at, &word);
                    "an insertion"
                }
                // Close the buffer: the file on disk counts again.
                _ => {
                    s.overlay.remove(file);
                    s.check(&format!(
                        "seed {seed} step {step}: {} closed",
                        file.display()
                    ));
                    continue;
                }
            };
            s.overlay.insert(file, text);
            s.check(&format!(
                "seed {seed} step {step}: {what} in {}",
                file.display()
            ));
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
