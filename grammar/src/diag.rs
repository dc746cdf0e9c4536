//! The diagnostic model and the one registry of diagnostic codes.
//!
//! Every stage (loader, parser, compiler passes) reports through [`Diagnostic`]; none of them
//! renders anything. Rendering (miette, short, JSON, GitHub annotations) is the CLI's job.
//! The registry lives in this, the lowest, crate so that a code is defined exactly once and
//! every stage, the CLI and the tests see the same list.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A registered diagnostic code: `E0xxx`/`W0xxx`, a kebab-case name and its severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line saying what the code means, for `--explain`-style listings and docs.
    pub summary: &'static str,
}

macro_rules! registry {
    ($( $ident:ident = $code:literal $name:literal $sev:ident $summary:literal; )*) => {
        pub mod codes {
            use super::{Code, Severity};
            $(
                pub const $ident: Code = Code {
                    code: $code,
                    name: $name,
                    severity: Severity::$sev,
                    summary: $summary,
                };
            )*
        }
        /// Every registered code, in code order.
        pub const REGISTRY: &[Code] = &[$(codes::$ident),*];
    };
}

registry! {
    // Loading files (E00xx)
    // E0001 is not a diagnostic: a CONFIG path that cannot be read is a usage error (exit 2).
    INCLUDED_FILE_NOT_FOUND = "E0002" "included-file-not-found" Error
        "a cfg_file or resource_file directive names a file that does not exist";
    INCLUDED_DIR_NOT_FOUND = "E0003" "included-dir-not-found" Error
        "a cfg_dir directive names a directory that does not exist";
    FILE_UNREADABLE = "E0004" "file-unreadable" Error
        "a configuration file or directory could not be read";
    FILE_NOT_UTF8 = "E0005" "file-not-utf8" Error
        "a configuration file is not valid UTF-8 and the engine refuses it (Alignak 2.1 stops with a UnicodeDecodeError)";
    FILE_HAS_NUL = "E0006" "file-contains-nul" Error
        "a configuration file contains NUL bytes (a binary file?)";
    EMPTY_INCLUDE = "E0007" "empty-include-path" Error
        "a cfg_file, cfg_dir or resource_file directive has no path";
    INVALID_ALIGNAK_ENV = "E0008" "invalid-alignak-environment" Error
        "an Alignak environment file (alignak.ini) that Alignak cannot read: a malformed line, a duplicate section or option, a bad interpolation";

    // Syntax (E001x)
    UNCLOSED_BLOCK = "E0010" "unclosed-definition" Error
        "a `define` block is not closed by a `}` line before the next definition or the end of file (Nagios 4 refuses it)";
    MISSING_OBJECT_TYPE = "E0011" "missing-object-type" Error
        "a `define` line names no object type";
    MISSING_OPEN_BRACE = "E0012" "missing-open-brace" Error
        "a `define` line is not followed by `{` where the engine needs it: on the same line for Nagios 4, anywhere before the first attribute for Shinken and Alignak";
    UNEXPECTED_TEXT = "E0013" "unexpected-text" Error
        "text outside any definition that is neither a comment nor a `key=value` parameter";
    STRAY_CLOSE_BRACE = "E0014" "unmatched-closing-brace" Error
        "a `}` line outside any definition";
    HEADER_JUNK = "E0015" "text-after-define" Error
        "unexpected text on a `define` line";

    // Objects (E002x, E003x)
    INVALID_INTEGER = "E0020" "invalid-integer" Error
        "an attribute that takes an integer has another value";
    INVALID_NUMBER = "E0021" "invalid-number" Error
        "an attribute that takes a number has another value";
    INVALID_BOOLEAN = "E0022" "invalid-boolean" Error
        "an attribute that takes a boolean has another value";
    INVALID_OPTION = "E0023" "invalid-option" Error
        "an option list contains a letter the attribute does not accept";
    MISSING_REQUIRED = "E0024" "missing-required-attribute" Error
        "an object lacks an attribute its type requires";
    // E0025 (template-without-name) became W0016: every engine ignores such a definition.
    ILLEGAL_NAME_CHAR = "E0026" "illegal-name-character" Error
        "an object name contains a character of illegal_object_name_chars";
    PLUS_ON_SINGLE_VALUE = "E0027" "additive-single-value" Error
        "a `+` (additive) value on an attribute that holds a single value";
    INVALID_TIME_RANGE = "E0028" "invalid-time-range" Error
        "a timeperiod line whose time ranges are not HH:MM-HH:MM";
    EMPTY_NAME = "E0029" "empty-name" Error
        "an object's name attribute is present but empty";
    INVALID_CUSTOM_VAR = "E0030" "invalid-custom-variable" Error
        "a custom variable named only `_`";
    UNSUPPORTED_ATTRIBUTE = "E0031" "unsupported-attribute" Error
        "an attribute the engine refuses (Nagios 4: `Invalid … object directive`), such as a Shinken-only one";
    UNSUPPORTED_OBJECT_TYPE = "E0032" "unsupported-object-type" Error
        "a `define` of a type the engine refuses (Nagios 4 reads 14 object types)";
    DUPLICATE_REFUSED = "E0033" "duplicate-definition-refused" Error
        "two objects or templates of one type with the same name, which Nagios 4 refuses";
    NOTHING_DEFINED = "E0035" "nothing-defined" Error
        "a configuration without a host, a service or a contact, which Nagios 4 refuses (\"There are no services defined!\")";
    MAIN_KEY_REFUSED = "E0036" "main-config-key-refused" Error
        "a main-config parameter Nagios 4 refuses: one it does not read (\"UNKNOWN VARIABLE\"), such as a Shinken one, or any `key=value` line in an object file (\"Unexpected token or statement\")";

    // Templates (E004x)
    EMPTY_LIST_ENTRY = "E0034" "empty-list-entry" Error
        "an empty list where Nagios 4 refuses it: an empty entry in a servicegroup's `members` (the host,service pairs shift), a `hostgroups`, `servicegroups` or `contactgroups` naming no group";
    UNKNOWN_TEMPLATE = "E0040" "unknown-template" Error
        "`use` names a template that is not defined for this object type";
    TEMPLATE_LOOP = "E0041" "template-loop" Error
        "templates that use each other in a loop, or a template that uses itself";

    // References and expansion (E005x–E007x)
    UNKNOWN_HOST = "E0050" "unknown-host" Error
        "a host name that no host definition has (group members, services, dependencies, escalations)";
    UNKNOWN_HOSTGROUP = "E0051" "unknown-hostgroup" Error
        "a hostgroup name that no hostgroup definition has (groups are never created implicitly)";
    GROUP_LOOP = "E0052" "group-loop" Error
        "host, service or contact groups that contain each other in a loop";
    UNKNOWN_PARENT = "E0053" "unknown-parent" Error
        "a host's `parents` names a host that does not exist";
    PARENT_LOOP = "E0054" "parent-loop" Error
        "hosts that are each other's parents in a loop";
    HOST_DEPENDENCY_LOOP = "E0055" "host-dependency-loop" Error
        "host dependencies that form a loop";
    SERVICE_DEPENDENCY_LOOP = "E0056" "service-dependency-loop" Error
        "service dependencies that form a loop";
    UNKNOWN_SERVICE = "E0057" "unknown-service" Error
        "a host,service reference to a service that does not exist on that host";
    UNKNOWN_SERVICEGROUP = "E0058" "unknown-servicegroup" Error
        "a servicegroup name that no servicegroup definition has (groups are never created implicitly)";
    UNKNOWN_CONTACT = "E0059" "unknown-contact" Error
        "a contact name that no contact definition has";
    UNKNOWN_CONTACTGROUP = "E0060" "unknown-contactgroup" Error
        "a contactgroup name that no contactgroup definition has";
    UNKNOWN_COMMAND = "E0061" "unknown-command" Error
        "a check, event handler or notification command that is not defined";
    UNKNOWN_TIMEPERIOD = "E0062" "unknown-timeperiod" Error
        "a timeperiod name that no timeperiod definition has";
    UNKNOWN_ESCALATION = "E0063" "unknown-escalation" Error
        "`escalations` names an escalation that is not defined";
    UNKNOWN_REALM = "E0064" "unknown-realm" Error
        "a realm name that no realm definition has";
    UNKNOWN_NOTIFICATIONWAY = "E0065" "unknown-notificationway" Error
        "a contact's `notificationways` names one that is not defined";
    UNKNOWN_MODULE = "E0066" "unknown-module" Error
        "a daemon's `modules` names a module that is not defined";
    INVALID_EXPRESSION = "E0067" "invalid-hostgroup-expression" Error
        "a hostgroup expression that cannot be read (unbalanced parentheses, dangling operator)";
    INVALID_FOREACH = "E0068" "invalid-duplicate-foreach" Error
        "a `duplicate_foreach` entry that cannot make a service";
    INVALID_OVERRIDE = "E0069" "invalid-service-override" Error
        "a `service_overrides` entry that is malformed or overrides a forbidden attribute";
    SERVICE_WITHOUT_HOSTS_DENIED = "E0070" "service-without-hosts-denied" Error
        "a service that applies to no host, with allow_empty_hostgroup_assignment=0";
    INVALID_BUSINESS_RULE = "E0071" "invalid-business-rule" Error
        "a `bp_rule!` expression that cannot be read, or a pattern in it that matches nothing";
    UNKNOWN_TRIGGER = "E0072" "unknown-trigger" Error
        "a `trigger_name` with no `NAME.trig` file under the main configuration's `triggers_dir`";
    HOST_NAME_PATTERN_TOO_LARGE = "E0073" "host-name-pattern-too-large" Error
        "an Alignak host name pattern (`web[1-200000]`, `db[1-9-%0999d]`) that would make more than 100,000 hosts or names padded past 255 characters";

    // Realms, packs and placement (E008x)
    REALM_LOOP = "E0080" "realm-loop" Error
        "realms that contain each other through realm_members";
    REALM_MULTIPLE_PARENTS = "E0081" "realm-multiple-parents" Error
        "a realm listed as a member of two realms";
    NO_DEFAULT_REALM = "E0082" "no-default-realm" Error
        "realms are defined but none has `default 1`";
    SEVERAL_DEFAULT_REALMS = "E0083" "several-default-realms" Error
        "more than one realm has `default 1`";
    REALM_CONFLICT = "E0084" "realm-conflict" Error
        "a host whose realm differs from its hostgroup's, or whose hostgroups are in different realms";
    PACK_SPANS_REALMS = "E0085" "pack-spans-realms" Error
        "hosts of different realms tied together by parents, dependencies or business rules";
    UNSERVED_TAG = "E0086" "unserved-tag" Error
        "a poller_tag or reactionner_tag that no poller/reactionner reachable from the host's realm serves";
    REALM_WITHOUT_SCHEDULER = "E0087" "realm-without-scheduler" Error
        "a realm with hosts and no scheduler that will run them";
    SCHEDULER_WITHOUT_BROKER = "E0088" "scheduler-without-broker" Error
        "a scheduler whose realm no broker reaches";
    UNSAFE_DAEMON_NAME = "E0089" "unsafe-daemon-name" Error
        "a daemon name that cannot be a file name (path separators, `..`, control characters)";
    DAEMON_ADDRESS_SHARED = "E0090" "daemon-address-shared" Error
        "two daemons that both hold work at one address and port: one process gets both configurations and keeps the last (what the other holds goes unmonitored)";

    // Warnings (W00xx)
    SYMLINK_LOOP = "W0001" "symlink-loop" Warning
        "a cfg_dir walk met a symbolic link loop; the loop was not followed";
    UNKNOWN_MAIN_KEY = "W0002" "unknown-main-config-key" Warning
        "a main-config key unknown to Nagios, Shinken and Alignak";
    UNKNOWN_OBJECT_TYPE = "W0003" "unknown-object-type" Warning
        "a `define` block of a type no engine knows; it is ignored";
    UNKNOWN_ATTRIBUTE = "W0004" "unknown-attribute" Warning
        "an attribute its object type does not have";
    DUPLICATE_DEFINITION = "W0005" "duplicate-definition" Warning
        "two objects of one type with the same name; definition_order (then the later one) wins";
    DUPLICATE_ATTRIBUTE = "W0006" "duplicate-attribute" Warning
        "a single-valued attribute set twice in one definition with different values; the last wins";
    IGNORED_OBJECT_TYPE = "W0007" "ignored-object-type" Warning
        "a known object type monitorc does not use (modulations, discovery); it is ignored";
    SERVICE_WITHOUT_HOSTS = "W0010" "service-without-hosts" Warning
        "a service whose host selection is empty; it is not created";
    IMPLICIT_GROUP = "W0011" "implicit-group" Warning
        "a group named only from the member side; Shinken and Alignak create it (Nagios refuses it)";
    DEPENDENCY_WITHOUT_EFFECT = "W0012" "dependency-without-effect" Warning
        "a dependency the engine accepts but that makes no dependency at all";
    DEPENDENCY_PRODUCT = "W0013" "dependency-product" Warning
        "a dependency between two large sets of hosts: every master × every dependent";
    UNKNOWN_TEMPLATE_IGNORED = "W0014" "unknown-template-ignored" Warning
        "`use` names a template that is not defined; Shinken and Alignak inherit nothing from it";
    NEGATION_IGNORED = "W0015" "negation-ignored" Warning
        "a lone `!group` in hostgroup_name: Shinken and Alignak select the group's hosts";
    UNNAMED_TEMPLATE = "W0016" "unnamed-template" Warning
        "a `register 0` definition without `name`: nothing can use it, and every engine ignores it";
    BACKWARDS_TIME_RANGE = "W0017" "backwards-time-range" Warning
        "a timeperiod range whose end is before its start (`22:00-02:00`): the engines accept it and it never matches";
    MISSING_OPEN_BRACE_TOLERATED = "W0018" "missing-open-brace-tolerated" Warning
        "a `define` line without `{`: Nagios 4 reads the block as if it were there (Shinken and Alignak refuse it)";
    UNCLOSED_BLOCK_TOLERATED = "W0019" "unclosed-definition-tolerated" Warning
        "a block not closed by `}`: Shinken and Alignak end it at the next `define` or the end of the file (Nagios 4 refuses it)";
    NOT_UTF8_TOLERATED = "W0020" "file-not-utf8-tolerated" Warning
        "a file that is not UTF-8 (Latin-1?): Nagios 4 and Shinken read its bytes, and monitorc keeps them exactly (Alignak refuses it)";
    UNKNOWN_PARENT_IGNORED = "W0021" "unknown-parent-ignored" Warning
        "a `parents` entry naming no host: Shinken 2.4 warns and drops the link (Nagios and Alignak refuse it)";
    TIMEPERIOD_ENTRY_IGNORED = "W0022" "timeperiod-entry-ignored" Warning
        "a timeperiod line Shinken 2.4 cannot read (`Monday`, `satourday`, a day without ranges): it warns and drops the line (Nagios and Alignak refuse it)";
    TIME_PAST_END_OF_DAY = "W0023" "time-past-end-of-day" Warning
        "a time range with an hour past 24 or minutes past 59 (`00:00-25:00`): Shinken 2.4 and Alignak 2.1 accept it and count the clock as seconds from midnight (Nagios 4 refuses it)";
    REALM_CONFLICT_IGNORED = "W0024" "realm-conflict-ignored" Warning
        "a host whose own realm differs from its hostgroup's: Shinken 2.4 warns and keeps the host in its own realm (Alignak refuses it)";
    UNKNOWN_HOSTGROUP_IGNORED = "W0025" "unknown-hostgroup-ignored" Warning
        "a host dependency's hostgroup entry that names no hostgroup (`!group`, `*`, an expression, a typo): Shinken 2.4 and Alignak 2.1 read plain names there and drop it silently";
    OBJECT_FILE_DIRECTIVE_IGNORED = "W0026" "object-file-directive-ignored" Warning
        "a `key=value` line in an object file (`cfg_file=`, `include_file=`…): Shinken 2.4 and Alignak 2.1 ignore it, and do not load what it names";
    BOOLEAN_WORD_IS_ZERO = "W0027" "boolean-word-is-zero" Warning
        "`yes`, `true` or `on` on a Nagios 4 switch: Nagios reads it with atoi, as 0, and turns the switch off (E0022 for active_checks_enabled and notifications_enabled)";
    DAEMON_ADDRESS_SHARED_IDLE = "W0028" "daemon-address-shared-idle" Warning
        "two daemons at one address and port where at most one holds work (an idle daemon, or a spare at its master's address, which can take nothing over)";
    NO_CONTACTS = "W0029" "no-contacts" Warning
        "a host or service with notifications enabled and no contacts or contact groups (its own, or for a service its host's): its problems are sent to no one";
    NO_CHECK_PERIOD = "W0030" "no-check-period" Warning
        "a service without check_period in Nagios 4, which does not take the host's (D2): checked at any time";
    NO_NOTIFICATION_PERIOD = "W0031" "no-notification-period" Warning
        "a service with notifications enabled and no notification_period, its own or its host's, in Nagios 4: notified about at any time";
}

/// A label on a span, possibly in another file than the primary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding. `primary` is absent only for problems that have no place in any file (the
/// configuration path given on the command line does not exist).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub primary: Option<Span>,
    /// The file concerned, for a problem with a whole file that no directive named (a file of
    /// the CONFIG directory that cannot be read).
    pub path: Option<std::path::PathBuf>,
    /// What the primary span is, shown under it.
    pub label: Option<String>,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: None,
            path: None,
            label: None,
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.primary = Some(span);
        self
    }

    pub fn in_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity
    }

    /// The order diagnostics are reported in: by file (load order), then position, then code.
    pub fn sort_key(&self) -> (u32, u32, &'static str, &str) {
        match self.primary {
            Some(s) => (s.file.0, s.start, self.code.code, &self.message),
            None => (0, 0, self.code.code, &self.message),
        }
    }
}

/// Sorts diagnostics into report order and drops exact duplicates.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        // Spanless diagnostics (command-line problems) come first.
        (a.primary.is_some(), a.sort_key()).cmp(&(b.primary.is_some(), b.sort_key()))
    });
    diags.dedup();
}

/// The closest candidate to `name` by normalised edit distance, if close enough to be a
/// plausible typo. Used for every did-you-mean hint.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::normalized_damerau_levenshtein(&lower, &c.to_ascii_lowercase());
        // Ties go to the smaller name so the hint never depends on candidate order.
        let better = match best {
            None => true,
            Some((s, b)) => score > s || (score == s && c < b),
        };
        if better {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.7).map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_codes_and_names_are_unique_and_well_formed() {
        let mut codes: Vec<_> = REGISTRY.iter().map(|c| c.code).collect();
        let mut names: Vec<_> = REGISTRY.iter().map(|c| c.name).collect();
        codes.sort();
        names.sort();
        let n = REGISTRY.len();
        codes.dedup();
        names.dedup();
        assert_eq!(codes.len(), n, "duplicate code");
        assert_eq!(names.len(), n, "duplicate name");
        for c in REGISTRY {
            let prefix = match c.severity {
                Severity::Error => 'E',
                Severity::Warning => 'W',
            };
            assert!(
                c.code.starts_with(prefix) && c.code.len() == 5,
                "{}",
                c.code
            );
            assert!(
                c.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-' || ch.is_ascii_digit()),
                "{} is not kebab-case",
                c.name
            );
        }
    }

    #[test]
    fn did_you_mean_finds_typos_only() {
        let c = ["host_name", "hostgroups", "address"];
        assert_eq!(did_you_mean("host_nmae", c), Some("host_name"));
        assert_eq!(did_you_mean("adress", c), Some("address"));
        assert_eq!(did_you_mean("completely_else", c), None);
    }
}
