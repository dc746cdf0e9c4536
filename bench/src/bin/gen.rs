//! `gen DIR HOSTS [--shinken]`: writes a generated configuration of HOSTS hosts into DIR
//! (which must not exist or be empty), with `--shinken` realms and daemons too. Check it with
//! `monitorc check DIR/monitorc.cfg`, see placement with `monitorc plan DIR/monitorc.cfg`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let shinken = args.iter().any(|a| a == "--shinken");
    args.retain(|a| a != "--shinken");
    let (dir, hosts) = match args.as_slice() {
        [dir, hosts] => match hosts.replace('_', "").parse::<usize>() {
            Ok(n) => (PathBuf::from(dir), n),
            Err(_) => return usage(&format!("HOSTS must be a number, not `{hosts}`")),
        },
        _ => return usage("expected two arguments"),
    };
    let start = Instant::now();
    match monitorc_bench::generate_with(&dir, hosts, shinken) {
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
        "gen: {why}\nusage: gen DIR HOSTS [--shinken]   (e.g. gen /tmp/cfg 100000 --shinken)"
    );
    ExitCode::from(2)
}
