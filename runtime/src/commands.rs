//! External commands: parsing `[timestamp] NAME;arg;…` lines and routing them to the
//! schedulers of a shard set.
//!
//! A command is routed by its first object argument: a host or a service goes to the scheduler
//! that owns the host; a hostgroup, servicegroup, contactgroup or contact goes only to the
//! schedulers that hold it (Shinken broadcasts those); commands without an object go to every
//! scheduler; a few (RELOAD_CONFIG, RESTART_PROGRAM, …) are the arbiter's own. The line is
//! split into exactly as many fields as the command takes, so plugin output keeps its `;`.

use std::collections::BTreeSet;

use crate::commands_data::COMMANDS;
use crate::shard::ShardSet;

/// The type of one argument of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    Host,
    /// A service description; always right after its `Host`.
    Service,
    HostGroup,
    ServiceGroup,
    Contact,
    ContactGroup,
    Timeperiod,
    /// A command name, possibly with `!arguments`.
    Command,
    Int,
    Bool,
    Str,
    Float,
}

/// A known external command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    /// Handled by the arbiter itself.
    pub internal: bool,
    pub args: &'static [Arg],
}

pub fn lookup(name: &str) -> Option<Spec> {
    let upper = name.to_ascii_uppercase();
    COMMANDS
        .binary_search_by(|(n, _, _)| (*n).cmp(upper.as_str()))
        .ok()
        .map(|i| Spec {
            name: COMMANDS[i].0,
            internal: COMMANDS[i].1,
            args: COMMANDS[i].2,
        })
}

pub fn all() -> impl Iterator<Item = Spec> {
    COMMANDS.iter().map(|(n, i, a)| Spec {
        name: n,
        internal: *i,
        args: a,
    })
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub timestamp: Option<i64>,
    pub spec: Spec,
    pub args: Vec<String>,
}

/// How a command is classified for routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Internal,
    Global,
    Host,
    Service,
    HostGroup,
    ServiceGroup,
    ContactGroup,
    Contact,
}

impl Spec {
    pub fn class(&self) -> Class {
        if self.internal {
            return Class::Internal;
        }
        match self.args.first() {
            Some(Arg::Host) if self.args.get(1) == Some(&Arg::Service) => Class::Service,
            Some(Arg::Host) => Class::Host,
            Some(Arg::HostGroup) => Class::HostGroup,
            Some(Arg::ServiceGroup) => Class::ServiceGroup,
            Some(Arg::ContactGroup) => Class::ContactGroup,
            Some(Arg::Contact) => Class::Contact,
            _ => Class::Global,
        }
    }
}

/// Why a line cannot be routed. Never a panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    Empty,
    BadTimestamp(String),
    UnknownCommand {
        name: String,
        suggestion: Option<&'static str>,
    },
    WrongArity {
        name: &'static str,
        expected: usize,
        got: usize,
    },
    BadArgument {
        name: &'static str,
        index: usize,
        expected: Arg,
        value: String,
    },
    UnknownHost(String),
    UnknownService {
        host: String,
        service: String,
    },
    UnknownObject {
        what: &'static str,
        name: String,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Empty => write!(f, "empty command line"),
            Error::BadTimestamp(t) => {
                write!(f, "`[{t}]` is not a timestamp (seconds since the epoch)")
            }
            Error::UnknownCommand {
                name,
                suggestion: Some(s),
            } => write!(f, "unknown command `{name}`; did you mean `{s}`?"),
            Error::UnknownCommand {
                name,
                suggestion: None,
            } => write!(f, "unknown command `{name}`"),
            Error::WrongArity {
                name,
                expected,
                got,
            } => write!(f, "{name} takes {expected} argument(s), got {got}"),
            Error::BadArgument {
                name,
                index,
                expected,
                value,
            } => {
                write!(
                    f,
                    "{name}: argument {} must be {expected:?}, not `{value}`",
                    index + 1
                )
            }
            Error::UnknownHost(h) => write!(f, "no host `{h}` in this shard set"),
            Error::UnknownService { host, service } => {
                write!(f, "no service `{service}` on host `{host}`")
            }
            Error::UnknownObject { what, name } => {
                write!(f, "no {what} `{name}` in this shard set")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Parses `[timestamp] NAME;arg;…` (the timestamp is optional).
pub fn parse(line: &str) -> Result<Command, Error> {
    let mut rest = line.trim_end_matches(['\r', '\n']).trim_start();
    if rest.is_empty() {
        return Err(Error::Empty);
    }
    let mut timestamp = None;
    if let Some(after) = rest.strip_prefix('[') {
        let (t, tail) = after
            .split_once(']')
            .ok_or_else(|| Error::BadTimestamp(after.to_string()))?;
        timestamp = Some(
            t.trim()
                .parse::<i64>()
                .map_err(|_| Error::BadTimestamp(t.to_string()))?,
        );
        rest = tail.trim_start();
    }
    let (name, args_text) = match rest.split_once(';') {
        Some((n, a)) => (n.trim(), Some(a)),
        None => (rest.trim(), None),
    };
    let Some(spec) = lookup(name) else {
        let suggestion = suggest(name);
        return Err(Error::UnknownCommand {
            name: name.to_string(),
            suggestion,
        });
    };
    let n = spec.args.len();
    let args: Vec<String> = match (args_text, n) {
        (None, _) => Vec::new(),
        (Some(""), 0) => Vec::new(),
        // The last argument keeps any further `;` (plugin output with perfdata).
        (Some(a), _) => a.splitn(n.max(1), ';').map(str::to_string).collect(),
    };
    if args.len() != n {
        return Err(Error::WrongArity {
            name: spec.name,
            expected: n,
            got: args.len(),
        });
    }
    for (i, (a, value)) in spec.args.iter().zip(&args).enumerate() {
        let ok = match a {
            Arg::Int => value.trim().parse::<i64>().is_ok(),
            Arg::Float => value.trim().parse::<f64>().is_ok(),
            Arg::Bool => matches!(value.trim(), "0" | "1"),
            Arg::Host
            | Arg::Service
            | Arg::HostGroup
            | Arg::ServiceGroup
            | Arg::Contact
            | Arg::ContactGroup
            | Arg::Timeperiod
            | Arg::Command => !value.trim().is_empty(),
            Arg::Str => true,
        };
        if !ok {
            return Err(Error::BadArgument {
                name: spec.name,
                index: i,
                expected: *a,
                value: value.clone(),
            });
        }
    }
    Ok(Command {
        timestamp,
        spec,
        args,
    })
}

fn suggest(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    let mut best: Option<(usize, &'static str)> = None;
    for (n, _, _) in COMMANDS {
        let d = edit_distance(&upper, n);
        if d <= 3 && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, n));
        }
    }
    best.map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Where a command goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Executed by the arbiter itself.
    Arbiter,
    /// These schedulers, by name, sorted.
    Schedulers(Vec<String>),
}

/// Routes a parsed command over a shard set.
pub fn route(set: &ShardSet, cmd: &Command) -> Result<Target, Error> {
    let active = || -> BTreeSet<String> {
        set.manifest
            .schedulers
            .iter()
            .filter(|(_, s)| !s.spare)
            .map(|(n, _)| n.clone())
            .collect()
    };
    let holding = |what: &'static str,
                   name: &str,
                   has: &dyn Fn(&crate::shard::SchedulerShard) -> bool|
     -> Result<Target, Error> {
        let found: Vec<String> = set
            .schedulers
            .iter()
            .filter(|(_, s)| has(s))
            .map(|(n, _)| n.clone())
            .collect();
        if found.is_empty() {
            Err(Error::UnknownObject {
                what,
                name: name.to_string(),
            })
        } else {
            Ok(Target::Schedulers(found))
        }
    };
    let first = cmd
        .args
        .first()
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    match cmd.spec.class() {
        Class::Internal => Ok(Target::Arbiter),
        Class::Global => Ok(Target::Schedulers(active().into_iter().collect())),
        Class::Host => {
            let s = set
                .manifest
                .hosts
                .get(&first)
                .ok_or_else(|| Error::UnknownHost(first.clone()))?;
            Ok(Target::Schedulers(vec![s.clone()]))
        }
        Class::Service => {
            let s = set
                .manifest
                .hosts
                .get(&first)
                .ok_or_else(|| Error::UnknownHost(first.clone()))?;
            let service = cmd.args[1].trim().to_string();
            let known = set
                .schedulers
                .get(s)
                .and_then(|sh| sh.services.get(&first))
                .is_some_and(|m| m.contains_key(&service));
            if !known {
                return Err(Error::UnknownService {
                    host: first,
                    service,
                });
            }
            Ok(Target::Schedulers(vec![s.clone()]))
        }
        Class::HostGroup => holding("hostgroup", &first, &|s| s.hostgroups.contains_key(&first)),
        Class::ServiceGroup => holding("servicegroup", &first, &|s| {
            s.servicegroups.contains_key(&first)
        }),
        Class::ContactGroup => holding("contactgroup", &first, &|s| {
            s.contactgroups.contains_key(&first)
        }),
        Class::Contact => holding("contact", &first, &|s| s.contacts.contains_key(&first)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique() {
        assert!(
            COMMANDS.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicates"
        );
        assert!(COMMANDS.len() >= 170, "{} commands", COMMANDS.len());
        for (name, _, args) in COMMANDS {
            for (i, a) in args.iter().enumerate() {
                if *a == Arg::Service {
                    assert_eq!(
                        args.get(i.wrapping_sub(1)),
                        Some(&Arg::Host),
                        "{name}: a service follows its host"
                    );
                }
            }
        }
    }

    #[test]
    fn parsing() {
        let c =
            parse("[1700000000] PROCESS_SERVICE_CHECK_RESULT;web01;HTTP;0;OK - fine|time=0.1s;1;2")
                .unwrap();
        assert_eq!(c.timestamp, Some(1700000000));
        assert_eq!(c.spec.class(), Class::Service);
        assert_eq!(c.args, ["web01", "HTTP", "0", "OK - fine|time=0.1s;1;2"]);
        assert_eq!(
            parse("process_host_check_result;h;0;up").unwrap().timestamp,
            None
        );
        assert_eq!(
            parse("RELOAD_CONFIG").unwrap().spec.class(),
            Class::Internal
        );
        assert!(matches!(
            parse("PROCES_HOST_CHECK_RESULT;h;0;x"),
            Err(Error::UnknownCommand {
                suggestion: Some("PROCESS_HOST_CHECK_RESULT"),
                ..
            })
        ));
        assert!(matches!(
            parse("PROCESS_HOST_CHECK_RESULT;h"),
            Err(Error::WrongArity { .. })
        ));
        assert!(matches!(
            parse("PROCESS_HOST_CHECK_RESULT;h;x;out"),
            Err(Error::BadArgument { index: 1, .. })
        ));
        assert!(matches!(
            parse("[abc] RELOAD_CONFIG"),
            Err(Error::BadTimestamp(_))
        ));
        assert_eq!(parse(""), Err(Error::Empty));
        for junk in ["[", ";;;", "[1]", "[1] ;", "\u{0}", "A;B;C;D;E;F;G;H"] {
            let _ = parse(junk);
        }
    }
}
