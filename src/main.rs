//! `monitorc`: the command line. Argument parsing and output rendering only; everything else
//! lives in the library crates.

mod ci;
mod render;

// A large configuration makes millions of small allocations (attribute values, services);
// mimalloc cuts the time of `check` on 100k hosts noticeably against glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use monitorc_compiler::grammar::Severity;

/// Compiler and static dispatcher for Nagios / Shinken / Alignak monitoring configuration.
#[derive(Parser)]
#[command(name = "monitorc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a configuration and report every problem.
    ///
    /// Exit code: 0 clean (warnings allowed unless --deny-warnings), 1 the configuration has
    /// errors, 2 usage or I/O error.
    Check {
        /// A main config file, a single object file, or a directory of `*.cfg` files.
        #[arg(default_value = ".")]
        config: PathBuf,
        /// Output format (default: human on a terminal, short otherwise).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Exit 1 when there are warnings, too.
        #[arg(long)]
        deny_warnings: bool,
        /// Print the time each stage took to stderr.
        #[arg(long)]
        timings: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Show where hosts land: per realm, each scheduler's hosts, load against its weight, the
    /// satellites' links and the spares.
    ///
    /// Exit code: 0 when the configuration is clean, 1 when it has errors (printed to stderr
    /// instead of a plan), 2 usage or I/O error.
    Plan {
        #[arg(default_value = ".")]
        config: PathBuf,
        /// Output format (default: table). `ron` writes the plan file `--previous` reads.
        #[arg(long, value_enum, default_value = "table")]
        format: PlanFormat,
        /// An earlier plan (a file written by `plan --format ron`): packs stay where they
        /// were unless balance would suffer beyond the bound; the moves are listed.
        #[arg(long, value_name = "PATH")]
        previous: Option<PathBuf>,
        /// What to balance: `checks` (one per host and per service) or `rate` (active checks
        /// per hour from check intervals).
        #[arg(long, value_enum, default_value = "checks")]
        balance: BalanceArg,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Write the shard set: one file per scheduler and per satellite, and the manifest.
    ///
    /// The set is written beside DIR and swapped in atomically: readers see the old complete
    /// set or the new one. A configuration with errors writes nothing and exits 1.
    Build {
        #[arg(default_value = ".")]
        config: PathBuf,
        /// The shard set's directory.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// An earlier plan file (`plan --format ron`) or build directory: sticky placement.
        #[arg(long, value_name = "PATH")]
        previous: Option<PathBuf>,
        /// Also write `DIR/nagios/<scheduler>/`: each shard as a standalone Nagios 4
        /// configuration (`nagios4 -v DIR/nagios/NAME/nagios.cfg`).
        #[arg(long, value_enum)]
        emit: Option<EmitArg>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Compare two shard sets: hosts added, removed or moved, services added, removed or
    /// changed (attribute by attribute), satellite links; `--files` adds unified diffs.
    ///
    /// Exit code: 0 identical, 1 different, 2 error (like `diff`).
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Also print a unified diff of every changed file.
        #[arg(long)]
        files: bool,
    },
    /// Route an external command line (`[timestamp] NAME;args…`) over a shard set: prints
    /// the target scheduler names, one per line (`arbiter` for the arbiter's own commands).
    ///
    /// Exit code: 0 routed, 1 the line is invalid or names an unknown object, 2 error.
    Route {
        dir: PathBuf,
        line: String,
        #[arg(long, value_enum, default_value = "text")]
        format: RouteFormat,
    },
    /// Which spare takes which shard when daemons die, which satellites need new links, and
    /// which hosts stay unmonitored when spares run out (exit 1 then).
    Failover {
        dir: PathBuf,
        /// The dead daemons.
        #[arg(long, required = true, num_args = 1..)]
        dead: Vec<String>,
    },
    /// Run the live dispatcher over a shard set: push every daemon its shard, ping them,
    /// hand a dead daemon's shard to its spare, forward external commands to the holders.
    ///
    /// Serves `POST /v1/commands` and `GET /v1/status`; logs one line per state change on
    /// stderr (filter with `MONITORC_LOG`, e.g. `MONITORC_LOG=debug`). Stops on SIGINT or
    /// SIGTERM. Exit code: 0 stopped, 2 the set cannot be loaded or ADDR not bound.
    Arbiter {
        dir: PathBuf,
        /// Address to serve the arbiter's API on.
        #[arg(long, default_value = "127.0.0.1:7770")]
        listen: String,
        /// Give a shard back to its owner when the owner answers again (the spare drops it).
        #[arg(long)]
        failback: bool,
        /// Keep the command journal here: lines the arbiter answered for survive its restart.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Run the shard the arbiter pushes on a real engine (Nagios 4), supervised.
    ///
    /// Serves the daemon protocol (`PUT`/`DELETE /v1/shard`, `POST /v1/commands`,
    /// `GET /v1/ping`) on --listen; keeps everything under --state (one node per directory).
    Node {
        /// Address to serve on (a daemon's `address`/`port` in the configuration).
        #[arg(long)]
        listen: String,
        /// The node's directory: generations, the engine's files, the command journal.
        #[arg(long)]
        state: PathBuf,
        /// The `$USERn$` macros for the engine (shards carry no secrets).
        #[arg(long)]
        resource_file: Option<PathBuf>,
        /// The engine's binary.
        #[arg(long, default_value = "/usr/sbin/nagios4")]
        engine_bin: PathBuf,
        /// One more main-config line for the engine, KEY=VALUE (repeatable).
        #[arg(long = "engine-set", value_name = "KEY=VALUE")]
        engine_set: Vec<String>,
        /// Seconds between two writes of the engine's status file.
        #[arg(long, default_value_t = 10)]
        status_interval: u32,
        /// An engine whose status file has not been written for this many seconds is hung:
        /// it is killed and restarted like a crashed one (at least 3 status intervals).
        #[arg(long, default_value_t = 120)]
        hang_after: u32,
    },
    /// Show one host or service with every resolved attribute and where it came from.
    ///
    /// Usage: `explain [CONFIG] host NAME` or `explain [CONFIG] service HOST DESCRIPTION`.
    /// Exit code: 0 when the object exists, 1 when it does not, 2 usage or I/O error.
    Explain {
        /// [CONFIG] host NAME | [CONFIG] service HOST DESCRIPTION
        #[arg(num_args = 2..=4, required = true, value_name = "ARGS")]
        args: Vec<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: ExplainFormat,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Run the language server on stdin/stdout (for editors: diagnostics as you type, go to
    /// definition, references, hover, completion, outline and rename).
    Lsp {
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print a shell completion script (for example
    /// `monitorc completions bash > /etc/bash_completion.d/monitorc`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): `monitorc man > monitorc.1`, and one per command,
    /// `monitorc man check > monitorc-check.1`.
    Man {
        /// The command whose page to print (the main page without it).
        command: Option<String>,
    },
}

/// Which engine's semantics apply, and the Alignak environment to read.
#[derive(clap::Args)]
struct EngineArgs {
    /// The engine whose semantics apply: `auto` chooses from the configuration (an
    /// Alignak environment → alignak; realms, daemons or Shinken-only attributes →
    /// shinken; otherwise nagios).
    #[arg(long, value_enum, default_value = "auto")]
    engine: EngineArg,
    /// Alignak 2's environment file (`alignak.ini`): its `[daemon.*]` sections are the
    /// daemons, its `cfg` options object files, its `$MACRO$`s resources (CONFIG may be the
    /// `.ini` itself).
    #[arg(long, value_name = "FILE")]
    alignak_env: Option<PathBuf>,
}

impl EngineArgs {
    /// The compiler options these arguments set.
    fn options(self) -> monitorc_compiler::Options {
        monitorc_compiler::Options {
            engine: self.engine.choice(),
            alignak_env: self.alignak_env,
            ..Default::default()
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineArg {
    Auto,
    Nagios,
    Shinken,
    Alignak,
}

impl EngineArg {
    fn choice(self) -> monitorc_compiler::EngineChoice {
        use monitorc_compiler::{Engine, EngineChoice};
        match self {
            EngineArg::Auto => EngineChoice::Auto,
            EngineArg::Nagios => EngineChoice::Given(Engine::Nagios),
            EngineArg::Shinken => EngineChoice::Given(Engine::Shinken),
            EngineArg::Alignak => EngineChoice::Given(Engine::Alignak),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RouteFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum EmitArg {
    Nagios,
}

#[derive(Clone, Copy, ValueEnum)]
enum BalanceArg {
    Checks,
    Rate,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanFormat {
    Table,
    Json,
    Ron,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Short,
    Json,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF readers).
    Sarif,
    /// GitLab code quality report (JSON).
    Gitlab,
    /// JUnit XML: a test case per file read.
    Junit,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A closed output (`monitorc plan CONFIG | head`) ends the process quietly, as with other
    // Unix tools, instead of a panic in `println!` (#13). Not for the arbiter: its sockets
    // must see EPIPE as an error, not die of it.
    if !matches!(cli.command, Command::Arbiter { .. } | Command::Node { .. }) {
        // SAFETY: no other thread exists yet; SIG_DFL is a valid disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match cli.command {
        Command::Check {
            config,
            format,
            deny_warnings,
            timings,
            engine,
        } => check(config, format, deny_warnings, timings, engine),
        Command::Explain {
            args,
            format,
            engine,
        } => explain(args, format, engine),
        Command::Diff { old, new, files } => diff(old, new, files),
        Command::Lsp { stdio: _ } => match monitorc_lsp::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("monitorc lsp: {e}");
                ExitCode::from(2)
            }
        },
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "monitorc", &mut out);
            write_out(&out)
        }
        Command::Man { command } => {
            use clap::CommandFactory as _;
            let cli = Cli::command();
            let page = match command {
                None => cli,
                Some(name) => match cli.find_subcommand(&name) {
                    // The process prints one page and ends: the name may live as long.
                    Some(c) => c
                        .clone()
                        .name(&*Box::leak(format!("monitorc-{name}").into_boxed_str()))
                        .version(env!("CARGO_PKG_VERSION")),
                    None => {
                        eprintln!("monitorc: error: no command `{name}`");
                        return ExitCode::from(2);
                    }
                },
            };
            let mut out = Vec::new();
            if clap_mangen::Man::new(page).render(&mut out).is_err() {
                return ExitCode::from(2);
            }
            write_out(&out)
        }
        Command::Route { dir, line, format } => route(dir, line, format),
        Command::Failover { dir, dead } => failover(dir, dead),
        Command::Arbiter {
            dir,
            listen,
            failback,
            state,
        } => arbiter(dir, listen, failback, state),
        Command::Node {
            listen,
            state,
            resource_file,
            engine_bin,
            engine_set,
            status_interval,
            hang_after,
        } => {
            let mut set = Vec::new();
            for kv in engine_set {
                match kv.split_once('=') {
                    Some((k, v)) => set.push((k.trim().to_string(), v.trim().to_string())),
                    None => {
                        eprintln!("monitorc: error: --engine-set takes KEY=VALUE, not `{kv}`");
                        return ExitCode::from(2);
                    }
                }
            }
            let opts = monitorc_node::Options {
                state,
                engine_bin,
                resource_file,
                engine_set: set,
                status_interval,
                hang_after: std::time::Duration::from_secs(u64::from(hang_after)),
            };
            node(listen, opts)
        }
        Command::Build {
            config,
            output,
            previous,
            emit,
            engine,
        } => build(config, output, previous, emit.is_some(), engine),
        Command::Plan {
            config,
            format,
            previous,
            balance,
            engine,
        } => plan(config, format, previous, balance, engine),
    }
}

/// Writes generated text to stdout: exit code 2 when it cannot.
fn write_out(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

fn check(
    config: PathBuf,
    format: Option<Format>,
    deny_warnings: bool,
    timings: bool,
    engine: EngineArgs,
) -> ExitCode {
    let options = engine.options();
    let checked = match monitorc_compiler::check_timed(&config, &options) {
        Ok((c, t)) => {
            if timings {
                for (stage, d) in t {
                    eprintln!("{stage:>13}: {:8.1} ms", d.as_secs_f64() * 1000.0);
                }
            }
            c
        }
        Err(e) => {
            eprintln!("monitorc: error: {e}");
            return ExitCode::from(2);
        }
    };
    let terminal = std::io::stdout().is_terminal();
    let format = format.unwrap_or(if terminal {
        Format::Human
    } else {
        Format::Short
    });
    let out = match format {
        Format::Human => {
            let color = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            render::human(&checked, color)
        }
        Format::Short => render::short(&checked),
        Format::Github => render::github(&checked),
        Format::Sarif => ci::sarif(&checked),
        Format::Gitlab => ci::gitlab(&checked),
        Format::Junit => ci::junit(&checked),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&render::json(&checked))
                .expect("JSON values always serialize");
            s.push('\n');
            s
        }
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    let errors = checked.count(Severity::Error);
    let warnings = checked.count(Severity::Warning);
    // The process ends here: freeing a million objects one by one would take longer than
    // the output did.
    std::mem::forget(checked);
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn explain(args: Vec<String>, format: ExplainFormat, engine: EngineArgs) -> ExitCode {
    let (config, rest) = match args.first().map(String::as_str) {
        Some("host" | "service") => (PathBuf::from("."), &args[..]),
        Some(c) => (PathBuf::from(c), &args[1..]),
        None => unreachable!("clap requires arguments"),
    };
    let query = match rest {
        [kind, name] if kind == "host" => (name.as_str(), None),
        [kind, host, desc] if kind == "service" => (host.as_str(), Some(desc.as_str())),
        _ => {
            eprintln!(
                "monitorc: usage: monitorc explain [CONFIG] host NAME | service HOST DESCRIPTION"
            );
            return ExitCode::from(2);
        }
    };
    let options = engine.options();
    let checked = match monitorc_compiler::check_timed(&config, &options).map(|(c, _)| c) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("monitorc: error: {e}");
            return ExitCode::from(2);
        }
    };
    let found = match query {
        (name, None) => monitorc_compiler::explain::host(&checked, name),
        (host, Some(desc)) => monitorc_compiler::explain::service(&checked, host, desc),
    };
    let e = match found {
        Ok(e) => e,
        Err(hint) => {
            let what = match query {
                (name, None) => format!("no host named `{name}`"),
                (host, Some(desc)) => format!("no service `{desc}` on host `{host}`"),
            };
            match hint {
                Some(h) => eprintln!("monitorc: {what}; did you mean `{h}`?"),
                None => eprintln!("monitorc: {what}"),
            }
            return ExitCode::from(1);
        }
    };
    let errors = checked.count(Severity::Error);
    if errors > 0 {
        eprintln!(
            "monitorc: warning: the configuration has {errors} error(s); run `monitorc check`"
        );
    }
    let out = match format {
        ExplainFormat::Human => render::explain_human(&e),
        ExplainFormat::Json => {
            let mut s = serde_json::to_string_pretty(&render::explain_json(&e))
                .expect("JSON values always serialize");
            s.push('\n');
            s
        }
    };
    print!("{out}");
    ExitCode::SUCCESS
}

fn plan(
    config: PathBuf,
    format: PlanFormat,
    previous: Option<PathBuf>,
    balance: BalanceArg,
    engine: EngineArgs,
) -> ExitCode {
    let mut options = monitorc_compiler::Options {
        balance: match balance {
            BalanceArg::Checks => monitorc_compiler::place::Balance::Checks,
            BalanceArg::Rate => monitorc_compiler::place::Balance::Rate,
        },
        ..engine.options()
    };
    if let Some(path) = previous {
        match read_previous(&path) {
            Ok(index) => options.previous = Some(index),
            Err(code) => return code,
        }
    }
    let checked = match clean_check(&config, &options, "no plan") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let out = match format {
        PlanFormat::Table => render::plan_table(&checked),
        PlanFormat::Ron => render::plan_file(&checked).to_ron(),
        PlanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&render::plan_json(&checked))
                .expect("JSON values always serialize");
            s.push('\n');
            s
        }
    };
    print!("{out}");
    std::mem::forget(checked);
    ExitCode::SUCCESS
}

/// Host → scheduler of an earlier plan: a plan file, or a build directory's manifest.
fn read_previous(
    path: &std::path::Path,
) -> Result<std::collections::BTreeMap<String, String>, ExitCode> {
    if path.is_dir() {
        return match monitorc_runtime::shard::read_host_index(path) {
            Ok(hosts) => Ok(hosts),
            Err(e) => {
                eprintln!(
                    "monitorc: error: {} is not a usable shard set: {e}",
                    path.display()
                );
                Err(ExitCode::from(2))
            }
        };
    }
    let text = monitorc_runtime::fs::read_to_string(path).map_err(|e| {
        eprintln!(
            "monitorc: error: cannot read the previous plan {}: {e}",
            path.display()
        );
        ExitCode::from(2)
    })?;
    monitorc_runtime::plan::PlanFile::from_ron(&text)
        .map(|p| p.host_index())
        .map_err(|e| {
            eprintln!(
                "monitorc: error: {} is not a plan file: {e}",
                path.display()
            );
            ExitCode::from(2)
        })
}

fn build(
    config: PathBuf,
    output: PathBuf,
    previous: Option<PathBuf>,
    nagios: bool,
    engine: EngineArgs,
) -> ExitCode {
    let mut options = engine.options();
    if let Some(path) = previous {
        match read_previous(&path) {
            Ok(index) => options.previous = Some(index),
            Err(code) => return code,
        }
    }
    let checked = match clean_check(&config, &options, "nothing written") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let files = monitorc_compiler::shards::emit(&checked, nagios);
    std::mem::forget(checked);
    match write_set(&output, &files) {
        Ok(()) => {
            println!("wrote {} files to {}", files.len(), output.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("monitorc: error: writing {}: {e}", output.display());
            ExitCode::from(2)
        }
    }
}

/// Writes the set into a fresh directory beside `dir`, then swaps it in: with an atomic
/// exchange where the file system has one (Linux renameat2), else by two renames.
fn write_set(
    dir: &std::path::Path,
    files: &std::collections::BTreeMap<String, String>,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the output must name a directory",
            )
        })?
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(&parent)?;
    let tmp = parent.join(format!(".{name}.new-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    // Fault injection for the atomicity tests: fail after writing some of the files.
    let fail_at = std::env::var("MONITORC_INJECT_WRITE_FAILURE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let list: Vec<(&String, &String)> = files.iter().collect();
    let written: std::io::Result<()> =
        list.par_iter()
            .enumerate()
            .try_for_each(|(i, (rel, text))| {
                if fail_at.is_some_and(|n| i >= n) {
                    return Err(std::io::Error::other("injected write failure"));
                }
                let path = tmp.join(rel);
                if let Some(d) = path.parent() {
                    std::fs::create_dir_all(d)?;
                }
                // Files for Nagios get the bytes the tree was written with (a Latin-1 value
                // is held as escape characters, see `monitorc_runtime::text`); shards keep
                // the characters.
                if rel.starts_with("nagios/") {
                    std::fs::write(&path, monitorc_runtime::text::encode(text))
                } else {
                    std::fs::write(&path, text)
                }
            });
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if !dir.exists() {
        return std::fs::rename(&tmp, dir);
    }
    if exchange(&tmp, dir).is_ok() {
        // `tmp` now holds the previous set.
        return std::fs::remove_dir_all(&tmp);
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    std::fs::rename(dir, &old)?;
    std::fs::rename(&tmp, dir)?;
    std::fs::remove_dir_all(&old)
}

#[cfg(target_os = "linux")]
fn exchange(a: &std::path::Path, b: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let ca = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let cb = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &std::path::Path, _: &std::path::Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "no atomic exchange",
    ))
}

fn diff(old: PathBuf, new: PathBuf, files: bool) -> ExitCode {
    let open = |p: &std::path::Path| {
        monitorc_runtime::shard::ShardSet::open(p).map_err(|e| {
            eprintln!("monitorc: error: {}: {e}", p.display());
            ExitCode::from(2)
        })
    };
    let (a, b) = match (open(&old), open(&new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let mut out = render::set_diff(&a, &b);
    if files {
        out.push_str(&render::file_diffs(&old, &new, &a, &b));
    }
    print!("{out}");
    if out.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn open_set(dir: &std::path::Path) -> Result<monitorc_runtime::shard::ShardSet, ExitCode> {
    monitorc_runtime::shard::ShardSet::open(dir).map_err(|e| {
        eprintln!("monitorc: error: {}: {e}", dir.display());
        ExitCode::from(2)
    })
}

fn route(dir: PathBuf, line: String, format: RouteFormat) -> ExitCode {
    use monitorc_runtime::commands::{self, Target};
    let set = match open_set(&dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let result = commands::parse(&line).and_then(|c| commands::route(&set, &c).map(|t| (c, t)));
    match (result, format) {
        (Ok((_, target)), RouteFormat::Text) => {
            match target {
                Target::Arbiter => println!("arbiter"),
                Target::Schedulers(list) => list.iter().for_each(|s| println!("{s}")),
            }
            ExitCode::SUCCESS
        }
        (Ok((c, target)), RouteFormat::Json) => {
            let targets = match &target {
                Target::Arbiter => vec!["arbiter".to_string()],
                Target::Schedulers(l) => l.clone(),
            };
            let doc = serde_json::json!({
                "command": c.spec.name,
                "class": format!("{:?}", c.spec.class()).to_lowercase(),
                "timestamp": c.timestamp,
                "arguments": c.args,
                "targets": targets,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("JSON values always serialize")
            );
            ExitCode::SUCCESS
        }
        (Err(e), RouteFormat::Text) => {
            eprintln!("monitorc: {e}");
            ExitCode::from(1)
        }
        (Err(e), RouteFormat::Json) => {
            println!("{}", serde_json::json!({ "error": e.to_string() }));
            ExitCode::from(1)
        }
    }
}

fn failover(dir: PathBuf, dead: Vec<String>) -> ExitCode {
    let set = match open_set(&dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let p = monitorc_runtime::failover::plan(&set, &dead);
    for (d, s) in &p.takeovers {
        println!("scheduler {d}: shard taken over by {s}");
    }
    for (d, s) in &p.satellite_takeovers {
        println!("{d}: replaced by {s}");
    }
    for (sat, changes) in &p.relinks {
        for (from, to) in changes {
            println!("{sat}: link {from} -> {to}");
        }
    }
    for (d, hosts) in &p.unmonitored {
        if hosts.is_empty() {
            println!("{d}: no live spare");
        } else {
            let shown: Vec<&str> = hosts.iter().take(10).map(String::as_str).collect();
            println!(
                "{d}: no live spare; {} hosts unmonitored: {}{}",
                hosts.len(),
                shown.join(", "),
                if hosts.len() > 10 { ", …" } else { "" }
            );
        }
    }
    for u in &p.unknown {
        eprintln!("monitorc: `{u}` is no daemon of this shard set");
    }
    if p.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The tracing subscriber of the long-running commands (MONITORC_LOG sets the level).
fn init_log() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MONITORC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Runs a long-lived server (`node`, `arbiter`) on two worker threads until SIGINT or
/// SIGTERM: `serve` gets the listener bound to `listen`. Exit 2 with the error.
fn serve<F>(listen: &str, serve: impl FnOnce(tokio::net::TcpListener) -> F) -> ExitCode
where
    F: std::future::Future<Output = std::io::Result<()>>,
{
    init_log();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("monitorc: error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        serve(listener).await.map_err(|e| e.to_string())
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("monitorc: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn node(listen: String, opts: monitorc_node::Options) -> ExitCode {
    serve(&listen, |listener| {
        monitorc_node::run(listener, opts, monitorc_arbiter::signals())
    })
}

fn arbiter(dir: PathBuf, listen: String, failback: bool, state: Option<PathBuf>) -> ExitCode {
    let set = match open_set(&dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let options = monitorc_arbiter::Options {
        failback,
        dir: Some(dir.clone()),
        state,
    };
    serve(&listen, |listener| {
        monitorc_arbiter::run(set, listener, options, monitorc_arbiter::signals())
    })
}

/// Checks CONFIG for `plan` and `build`: a configuration with errors gets them on stderr and
/// exit 1 (`outcome` says what was not done), an unusable path exit 2.
fn clean_check(
    config: &std::path::Path,
    options: &monitorc_compiler::Options,
    outcome: &str,
) -> Result<monitorc_compiler::Checked, ExitCode> {
    let checked = match monitorc_compiler::check_timed(config, options) {
        Ok((c, _)) => c,
        Err(e) => {
            eprintln!("monitorc: error: {e}");
            return Err(ExitCode::from(2));
        }
    };
    if checked.count(Severity::Error) > 0 {
        eprint!("{}", render::short(&checked));
        eprintln!("monitorc: {outcome}: the configuration has errors");
        std::mem::forget(checked);
        return Err(ExitCode::from(1));
    }
    Ok(checked)
}
