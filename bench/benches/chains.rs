//! Scaling of the shapes hostile input uses (#13): a chain of host templates each `use`-ing the
//! previous one, the same closed into a loop, one host whose `use` lists every template, and a
//! `hostgroup_members` chain, at 1k, 10k and 100k links. Each is a whole `check` (load, lower, resolve, expand, place):
//! the work must grow linearly with the chain.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};

const HEADER: &str = "define command {\n    command_name  c\n    command_line  /bin/true\n}\n";

fn template_chain(n: usize) -> String {
    let mut t = String::from(HEADER);
    t.push_str("define host {\n    name  t0\n    max_check_attempts  1\n    check_command  c\n    register  0\n}\n");
    for i in 1..n {
        t.push_str(&format!(
            "define host {{\n    name  t{i}\n    use  t{}\n    register  0\n}}\n",
            i - 1
        ));
    }
    t.push_str(&format!(
        "define host {{\n    host_name  h\n    use  t{}\n}}\n",
        n - 1
    ));
    t
}

/// The chain closed: `t0` uses the last template (a loop, reported once).
fn template_loop(n: usize) -> String {
    template_chain(n).replacen(
        "    name  t0\n",
        &format!("    name  t0\n    use  t{}\n", n - 1),
        1,
    )
}

fn wide_use(n: usize) -> String {
    let mut t = String::from(HEADER);
    for i in 0..n {
        t.push_str(&format!(
            "define host {{\n    name  t{i}\n    register  0\n}}\n"
        ));
    }
    let all: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
    t.push_str(&format!(
        "define host {{\n    host_name  h\n    max_check_attempts  1\n    check_command  c\n    use  {}\n}}\n",
        all.join(",")
    ));
    t
}

fn group_chain(n: usize) -> String {
    let mut t = String::from(HEADER);
    t.push_str("define host {\n    host_name  h\n    max_check_attempts  1\n    check_command  c\n    hostgroups  g0\n}\n");
    for i in 0..n {
        let next = if i + 1 < n {
            format!("    hostgroup_members  g{}\n", i + 1)
        } else {
            String::new()
        };
        t.push_str(&format!(
            "define hostgroup {{\n    hostgroup_name  g{i}\n{next}}}\n"
        ));
    }
    t
}

fn write(dir: &Path, name: &str, text: String) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn chains(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("monitorc-bench-chains-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = c.benchmark_group("chains");
    g.sample_size(10);
    for n in [1_000, 10_000, 100_000] {
        for (shape, text) in [
            ("template_chain", template_chain(n)),
            ("template_loop", template_loop(n)),
            ("wide_use", wide_use(n)),
            ("hostgroup_chain", group_chain(n)),
        ] {
            let path = write(&dir, &format!("{shape}-{n}.cfg"), text);
            g.bench_function(format!("{shape}_{n}"), |b| {
                b.iter(|| {
                    let checked = monitorc_compiler::check(&path).unwrap();
                    assert_eq!(checked.summary.get("hosts"), 1);
                    let loops = (checked.diagnostics.iter())
                        .filter(|d| d.code.code == "E0041")
                        .count();
                    assert_eq!(loops, usize::from(shape == "template_loop"));
                })
            });
        }
    }
    g.finish();
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, chains);
criterion_main!(benches);
