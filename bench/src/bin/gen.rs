//! `gen DIR HOSTS [--shinken | --cartesian=product | --cartesian=explode]`: writes a generated
//! configuration of HOSTS hosts into DIR (which must not exist or be empty): a Nagios tree, with
//! `--shinken` a Shinken one (realms and daemons too), with `--cartesian=…` the Shinken tree and
//! a hostgroup of 3,000 hosts whose service dependency on itself is the whole product or, with
//! `explode`, same-host. Check it with `monitorc check DIR/monitorc.cfg`, see placement with
//! `monitorc plan DIR/monitorc.cfg`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use monitorc_bench::Tree;

fn main() -> ExitCode {
    let mut tree = Tree::Nagios;
    let mut args = Vec::new();
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--shinken" => tree = Tree::Shinken,
            "--cartesian=product" => tree = Tree::ShinkenCartesian { explode: false },
            "--cartesian=explode" => tree = Tree::ShinkenCartesian { explode: true },
            _ if a.starts_with("--") => return usage(&format!("unknown option `{a}`")),
            _ => args.push(a),
        }
    }
    let (dir, hosts) = match args.as_slice() {
        [dir, hosts] => match hosts.replace('_', "").parse::<usize>() {
            Ok(n) => (PathBuf::from(dir), n),
            Err(_) => return usage(&format!("HOSTS must be a number, not `{hosts}`")),
        },
        _ => return usage("expected two arguments"),
    };
    let start = Instant::now();
    match monitorc_bench::generate_tree(&dir, hosts, tree) {
        Ok(stats) => {
            println!("{}: {stats} in {:.2?}", dir.display(), start.elapsed());
            println!(
                "check it with: monitorc check {}",
                dir.join("monitorc.cfg").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen: {}: {e}", dir.display());
            ExitCode::from(1)
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!(
        "gen: {why}\nusage: gen DIR HOSTS [--shinken | --cartesian=product | --cartesian=explode]\n       (e.g. gen /tmp/cfg 100000 --shinken)"
    );
    ExitCode::from(2)
}
