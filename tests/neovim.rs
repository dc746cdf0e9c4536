//! One scripted run in a real editor: Neovim headless with its built-in LSP client (Debian's
//! `neovim` package, which `.ci/run` installs) opens the bundled example through
//! `monitorc lsp`, a typo is typed, and the diagnostic Neovim shows is read back.

mod common;

use std::process::Command;
use std::time::Duration;

#[test]
fn neovim_shows_the_diagnostic_of_a_typo() {
    if Command::new("nvim").arg("--version").output().is_err() {
        eprintln!("SKIPPED: Neovim is not installed; run `apt-get install neovim`");
        return;
    }
    let root = std::fs::canonicalize(common::root().join("fixtures/example")).unwrap();
    let file = root.join("objects/hosts/paris.cfg");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("diagnostic.txt");
    let script = common::root().join("tests/data/lsp-neovim.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("MONITORC", env!("CARGO_BIN_EXE_monitorc"))
        .env("LSP_ROOT", &root)
        .env("LSP_FILE", &file)
        .env("LSP_OUT", &out)
        .env("HOME", tmp.path())
        .env("XDG_STATE_HOME", tmp.path())
        .env("XDG_DATA_HOME", tmp.path())
        .env("XDG_CACHE_HOME", tmp.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("Neovim did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let got = std::fs::read_to_string(&out).expect("the script wrote its result");
    assert!(!got.starts_with("FAIL"), "{got}");
    let mut parts = got.splitn(3, '\t');
    let (line, code, message) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let expected = text
        .lines()
        .position(|l| l.contains("paris-site,"))
        .unwrap();
    assert_eq!(line, expected.to_string(), "{got}");
    assert!(code.starts_with('W') || code.starts_with('E'), "{got}");
    assert!(message.contains("paris-sitee"), "{got}");
}
