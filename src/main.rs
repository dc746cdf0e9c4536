//! `monitorc`: the command line. Argument parsing and output rendering only; everything else
//! lives in the library crates.

mod render;

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
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Short,
    Json,
    Github,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            config,
            format,
            deny_warnings,
        } => check(config, format, deny_warnings),
    }
}

fn check(config: PathBuf, format: Option<Format>, deny_warnings: bool) -> ExitCode {
    let checked = match monitorc_compiler::check(&config) {
        Ok(c) => c,
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
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
