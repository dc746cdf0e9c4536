//! Lowering: syntax trees to typed IR objects, with every check that needs only the object
//! itself (value types, required attributes, names, duplicate keys) and duplicate definitions.
//!
//! Files are lowered in parallel (rayon) and collected in load order.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use monitorc_grammar::diag::did_you_mean;
use monitorc_grammar::{
    codes, Block, Diagnostic, FileId, Loaded, Open, Origin, SourceFile, Span, SyntaxTree,
};

use crate::engine::{Engine, Semantics, NAGIOS_OBJECT_TYPES};
use crate::ir::{Attr, Ir, MainConfig, MainParam, Object, Value};
use crate::schema::{self, ObjectKind, Ty, TIMEPERIOD_DAY_WORDS};

/// What lowering keeps of each file for the next check: its objects and diagnostics, valid
/// while the file's text and syntax tree are the same ones (shared with the loader's
/// `ParseCache`), for the same engine and illegal-character set.
#[derive(Default)]
pub struct Cache {
    files: HashMap<FileId, CachedFile>,
}

struct CachedFile {
    text: Arc<SourceFile>,
    tree: Arc<SyntaxTree>,
    engine: Engine,
    illegal: String,
    lowered: Arc<Lowered>,
}

/// One file's objects and the diagnostics lowering them gave.
type Lowered = (Vec<Arc<Object>>, Vec<Diagnostic>);

/// Lowers every file of `loaded`.
pub fn lower(loaded: &Loaded, sem: &Semantics) -> (Ir, Vec<Diagnostic>) {
    lower_cached(loaded, sem, None)
}

/// [`lower`], taking from `cache` the files whose text and tree did not change (and updating
/// it).
pub fn lower_cached(
    loaded: &Loaded,
    sem: &Semantics,
    cache: Option<&mut Cache>,
) -> (Ir, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    for f in &loaded.not_utf8 {
        diags.push(not_utf8(loaded, f, sem));
    }
    let main = lower_main(loaded, sem, &mut diags);
    let illegal = match main.get("illegal_object_name_chars") {
        Some(v) => v.to_string(),
        None if sem.illegal_chars_default => schema::DEFAULT_ILLEGAL_NAME_CHARS.to_string(),
        None => String::new(),
    };
    let old = cache.as_deref();
    let hit = |id: FileId| -> Option<Arc<Lowered>> {
        let c = old?.files.get(&id)?;
        (Arc::ptr_eq(&c.text, loaded.sources.shared(id))
            && Arc::ptr_eq(&c.tree, &loaded.trees[id.0 as usize])
            && c.engine == sem.engine
            && c.illegal == illegal)
            .then(|| c.lowered.clone())
    };
    let per_file: Vec<(FileId, Arc<Lowered>)> = loaded
        .files()
        .zip(&loaded.origins)
        .filter(|(_, origin)| read_by(sem, **origin))
        .map(|(f, _)| f)
        .collect::<Vec<_>>()
        .par_iter()
        .map(|&(id, file, tree)| {
            if let Some(l) = hit(id) {
                return (id, l);
            }
            let mut objects = Vec::with_capacity(tree.blocks.len());
            let mut diags = Vec::new();
            for block in &tree.blocks {
                if let Some(o) = lower_block(&file.text, block, sem, &mut diags) {
                    let first = objects.len();
                    match sem.host_name_ranges.then(|| name_pattern(&o)).flatten() {
                        Some(Ok(copies)) => objects.extend(copies),
                        Some(Err(d)) => diags.push(d),
                        None => objects.push(o),
                    }
                    for o in &objects[first..] {
                        check_object(o, &file.text, &illegal, sem, &mut diags);
                    }
                }
            }
            let objects = objects.into_iter().map(Arc::new).collect();
            (id, Arc::new((objects, diags)))
        })
        .collect();
    let mut objects = Vec::new();
    for (_, l) in &per_file {
        objects.extend(l.0.iter().cloned());
        diags.extend(l.1.iter().cloned());
    }
    if let Some(c) = cache {
        c.files = per_file
            .into_iter()
            .map(|(id, lowered)| {
                let entry = CachedFile {
                    text: loaded.sources.shared(id).clone(),
                    tree: loaded.trees[id.0 as usize].clone(),
                    engine: sem.engine,
                    illegal: illegal.clone(),
                    lowered,
                };
                (id, entry)
            })
            .collect();
    }
    let ir = Ir { main, objects };
    check_duplicates(&ir, sem, &mut diags);
    (ir, diags)
}

fn lower_main(loaded: &Loaded, sem: &Semantics, diags: &mut Vec<Diagnostic>) -> MainConfig {
    let mut main = MainConfig::default();
    for ((_, file, tree), &origin) in loaded.files().zip(&loaded.origins) {
        if !read_by(sem, origin) {
            continue;
        }
        let object_file = matches!(
            origin,
            Origin::CfgFile | Origin::CfgDir | Origin::Nested | Origin::Included
        );
        for p in &tree.params {
            let key = file.text[p.key.range()].to_string();
            let param = MainParam {
                value: p.value(&file.text).trim().to_string(),
                key,
                span: p.span,
            };
            if param.key.starts_with('$') {
                main.resource_macros.retain(|m| m.key != param.key);
                main.resource_macros.push(param);
                continue;
            }
            if sem.main_keys_checked && object_file && !param.key.starts_with("include_") {
                // F10: Nagios reads no `key=value` line in an object file.
                diags.push(
                    Diagnostic::new(
                        codes::MAIN_KEY_REFUSED,
                        format!("`{}=` in an object file", param.key),
                    )
                    .at(p.key)
                    .label(format!(
                        "{} reads main-config parameters in the main config only (\"Unexpected token or statement\")",
                        sem.engine.title()
                    ))
                    .help("move the line to the main config (nagios.cfg), with its path relative to it"),
                );
                main.params.push(param);
                continue;
            }
            if sem.main_keys_checked
                && !object_file
                && !param.key.starts_with('x')
                && !schema::is_nagios_main_config_key(&param.key)
            {
                // F12: Nagios refuses a key it does not read, Shinken's and Alignak's too.
                let mut d = Diagnostic::new(
                    codes::MAIN_KEY_REFUSED,
                    format!(
                        "`{}` is not a {} main-config parameter",
                        param.key,
                        sem.engine.title()
                    ),
                )
                .at(p.key)
                .label(format!(
                    "{} refuses it (\"UNKNOWN VARIABLE\")",
                    sem.engine.title()
                ));
                d = match did_you_mean(&param.key, crate::schema_data::NAGIOS_MAIN_CONFIG_KEYS.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None if schema::is_main_config_key(&param.key) => d.help(
                        "it is a Shinken/Alignak parameter: remove it from a Nagios configuration, or check with `--engine shinken`",
                    ),
                    None => d.help("remove it"),
                };
                diags.push(d);
                main.params.push(param);
                continue;
            }
            if object_file && sem.object_file_directives && param.key.starts_with("include_") {
                // F11: Nagios follows it (the loader did).
                main.params.push(param);
                continue;
            }
            if object_file && !sem.object_file_directives {
                // F10, F11: Shinken and Alignak read no directive in an object file.
                let named = matches!(
                    param.key.as_str(),
                    "cfg_file" | "cfg_dir" | "include_file" | "include_dir"
                );
                diags.push(
                    Diagnostic::new(
                        codes::OBJECT_FILE_DIRECTIVE_IGNORED,
                        format!("`{}=` in an object file is ignored", param.key),
                    )
                    .at(p.key)
                    .label(format!(
                        "{} reads directives in the main config only{}",
                        sem.engine.title(),
                        if named { ": what it names is not loaded" } else { "" }
                    ))
                    .help("move the line to the main config, with its path relative to it, or remove it"),
                );
                continue;
            }
            if !schema::is_main_config_key(&param.key) {
                let mut d = Diagnostic::new(
                    codes::UNKNOWN_MAIN_KEY,
                    format!("unknown main-config parameter `{}`", param.key),
                )
                .at(p.key)
                .label("not a Nagios, Shinken or Alignak parameter");
                d = match did_you_mean(&param.key, schema::main_config_keys().iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(
                        "remove it, or check the spelling against the Nagios/Shinken documentation",
                    ),
                };
                diags.push(d);
            }
            main.params.push(param);
        }
    }
    main
}

/// Whether the engine reads a file reached this way (F10, F11): Shinken and Alignak do not
/// follow directives in object files.
fn read_by(sem: &Semantics, origin: Origin) -> bool {
    sem.object_file_directives || !matches!(origin, Origin::Nested | Origin::Included)
}

/// The engine's verdict on a file that is not UTF-8.
fn not_utf8(loaded: &Loaded, f: &monitorc_grammar::NotUtf8, sem: &Semantics) -> Diagnostic {
    let path = loaded.sources.get(f.at.file).path.display();
    let message = format!("`{path}` is not valid UTF-8 (byte 0x{:02x})", f.byte);
    let engine = sem.engine.title();
    let d = if sem.bytes_not_utf8 {
        Diagnostic::new(codes::NOT_UTF8_TOLERATED, message)
            .at(f.at)
            .label("the first byte that is not UTF-8")
            .help("convert the file to UTF-8 (`iconv -f latin1 -t utf-8`) if other tools read it; Alignak refuses it")
            .note(format!(
                "{engine} reads bytes; monitorc keeps them exactly in shards and `--emit nagios`"
            ))
    } else {
        Diagnostic::new(codes::FILE_NOT_UTF8, message)
            .at(f.at)
            .label("the first byte that is not UTF-8")
            .help("convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8`")
            .note(format!("{engine} stops with a UnicodeDecodeError"))
    };
    match f.directive {
        Some(s) => d.secondary(s, "included here"),
        None => d,
    }
}

/// The engine's verdict on where a block's braces are (the tree builder records them).
fn block_syntax(text: &str, block: &Block, sem: &Semantics, diags: &mut Vec<Diagnostic>) {
    let engine = sem.engine.title();
    match block.open {
        Open::SameLine => {}
        Open::NextLine if sem.open_brace_next_line => {}
        Open::NextLine => diags.push(
            Diagnostic::new(
                codes::MISSING_OPEN_BRACE,
                format!("{engine} needs `{{` on the `define` line"),
            )
            .at(block.header)
            .label("the `{` is on a later line")
            .help("write `define TYPE {` on one line")
            .note(format!(
                "{engine} reads a `{{` line as an attribute and refuses the object (\"Invalid … object directive '{{'\")"
            )),
        ),
        Open::Missing if sem.open_brace_missing => diags.push(
            Diagnostic::new(
                codes::MISSING_OPEN_BRACE_TOLERATED,
                "`define` is not followed by `{`",
            )
            .at(block.header)
            .label(format!("{engine} reads the block as if `{{` were here"))
            .help("write `define TYPE {`: Shinken and Alignak refuse a block without it"),
        ),
        Open::Missing => diags.push(
            Diagnostic::new(codes::MISSING_OPEN_BRACE, "`define` is not followed by `{`")
                .at(block.header)
                .label("expected `{` on this line or alone on the next one")
                .help("write `define TYPE {`")
                .note(format!(
                    "{engine} reads each attribute line as a malformed `key=value` parameter"
                )),
        ),
    }
    if block.closed {
        return;
    }
    let what = block.kind.map(|k| &text[k.range()]).unwrap_or("object");
    let d = if sem.unclosed_block {
        Diagnostic::new(
            codes::UNCLOSED_BLOCK_TOLERATED,
            format!("this `define {what}` block is never closed"),
        )
        .at(block.header)
        .label("opened here")
        .help("add a line holding only `}` after the last attribute of this definition")
        .note(format!(
            "{engine} ends the block at the next `define` line or at the end of the file and reads its attributes; Nagios 4 refuses it"
        ))
    } else {
        Diagnostic::new(
            codes::UNCLOSED_BLOCK,
            format!("this `define {what}` block is never closed"),
        )
        .at(block.header)
        .label("opened here")
        .help("add a line holding only `}` after the last attribute of this definition")
        .note(format!(
            "{engine} refuses it (\"Unexpected start of object definition\" or \"Unexpected EOF\"); monitorc ends the block at the next `define` line or the end of the file and reads its attributes"
        ))
    };
    diags.push(d);
}

fn lower_block(
    text: &str,
    block: &Block,
    sem: &Semantics,
    diags: &mut Vec<Diagnostic>,
) -> Option<Object> {
    block_syntax(text, block, sem, diags);
    let kind_span = block.kind?;
    let keyword = &text[kind_span.range()];
    if sem.engine == Engine::Nagios
        && !ObjectKind::from_keyword(keyword).is_some_and(|k| NAGIOS_OBJECT_TYPES.contains(&k))
    {
        let d = Diagnostic::new(
            codes::UNSUPPORTED_OBJECT_TYPE,
            format!("Nagios 4 has no `{keyword}` objects"),
        )
        .at(kind_span)
        .label("Nagios refuses the configuration: \"Invalid object definition type\"");
        let lower = keyword.to_ascii_lowercase();
        let d = match ObjectKind::from_keyword(&lower) {
            Some(k) if k.keyword() != keyword && NAGIOS_OBJECT_TYPES.contains(&k) => {
                d.help(format!("object types are lower case: `define {}`", k.keyword()))
            }
            _ => d.help("remove it, or check the tree as the engine that reads it (`--engine shinken` or `alignak`)"),
        };
        diags.push(d);
        return None;
    }
    let Some(kind) = ObjectKind::from_keyword(keyword) else {
        let lower = keyword.to_ascii_lowercase();
        let d = Diagnostic::new(
            codes::UNKNOWN_OBJECT_TYPE,
            format!("unknown object type `{keyword}`; this definition is ignored"),
        )
        .at(kind_span)
        .label("not an object type");
        let d = match ObjectKind::from_keyword(&lower) {
            Some(k) => d.help(format!("object types are lower case: `define {}`", k.keyword())),
            None => match did_you_mean(keyword, ObjectKind::ALL.iter().map(|k| k.keyword())) {
                Some(s) => d.help(format!("did you mean `define {s}`?")),
                None => d.help("known types are host, service, hostgroup, contact, command, timeperiod, realm, scheduler, poller, …"),
            },
        };
        diags.push(d);
        return None;
    };
    if !kind.is_used() {
        diags.push(
            Diagnostic::new(
                codes::IGNORED_OBJECT_TYPE,
                format!("`{keyword}` objects are not used by monitorc; this definition is ignored"),
            )
            .at(kind_span)
            .label("Shinken/Alignak-only object type")
            .help(
                "remove it, or keep it for Shinken/Alignak: it has no effect on monitorc's output",
            ),
        );
        return None;
    }
    let mut obj = Object {
        kind,
        header: block.header,
        span: block.span,
        register: true,
        attrs: Vec::with_capacity(block.attrs.len()),
        customs: Vec::new(),
    };
    // Attributes written under another name the engine accepts: where both names are
    // written, Shinken and Alignak keep the canonical one.
    let mut aliased: Vec<&'static str> = Vec::new();
    for a in &block.attrs {
        let mut key = &text[a.key.range()];
        let value = a.value(text).trim();
        if sem.engine == Engine::Nagios && !nagios_reads_line(kind, key) {
            diags.push(unsupported_attribute(kind, key, a.key));
            continue;
        }
        if let Some(canonical) = crate::engine::alias(sem.engine, kind, key) {
            if sem.engine != Engine::Nagios && obj.get(canonical).is_some() {
                continue;
            }
            aliased.push(canonical);
            key = canonical;
        } else if sem.engine != Engine::Nagios && aliased.contains(&key) {
            aliased.retain(|k| *k != key);
            obj.attrs.retain(|p| &*p.name != key);
        }
        if let Some(var) = key.strip_prefix('_') {
            if var.is_empty() {
                diags.push(
                    Diagnostic::new(codes::INVALID_CUSTOM_VAR, "custom variable without a name")
                        .at(a.key)
                        .label("`_` alone")
                        .help("name custom variables `_NAME`, e.g. `_SNMP_COMMUNITY public`"),
                );
                continue;
            }
            let name = key.to_ascii_uppercase();
            if let Some(first) = obj.customs.iter().find(|c| *c.name == *name) {
                if first.raw != value {
                    diags.push(duplicate_attr(
                        &name,
                        a.key,
                        first.key_span,
                        "the first value is kept",
                    ));
                }
                continue;
            }
            // `+` does not add to a custom variable (Shinken and Alignak refuse it); a number
            // such as `_SMS_TO +33612345678` is the value itself.
            if let Some(rest) = value.strip_prefix('+') {
                if !sem.plus_on_single_value_literal
                    && !rest.starts_with(|c: char| c.is_ascii_digit())
                {
                    diags.push(
                        Diagnostic::new(
                            codes::PLUS_ON_SINGLE_VALUE,
                            format!("`+` on custom variable `{name}`, which holds a single value"),
                        )
                        .at(a.value)
                        .label("additive value")
                        .help(format!(
                            "custom variables are inherited whole; write `{key} {}` with the \
                             complete value",
                            rest.trim_start()
                        )),
                    );
                    continue;
                }
            }
            obj.customs.push(Attr {
                name: name.as_str().into(),
                key_span: a.key,
                value_span: a.value,
                raw: value.to_string(),
                plus: false,
                value: Value::Str,
            });
            continue;
        }
        let mut value = value;
        let mut range_key = None;
        let mut interned = None;
        let ty = match kind.attribute_interned(key) {
            Some((ty, name)) => {
                interned = Some(name);
                ty
            }
            None if kind == ObjectKind::Timeperiod
                && is_time_range_key(key)
                && key.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                // I4: day and month words are lower case (Nagios `%[a-z]`).
                let lower = key.to_ascii_lowercase();
                diags.push(if sem.timeperiod_entries_dropped {
                    Diagnostic::new(
                        codes::TIMEPERIOD_ENTRY_IGNORED,
                        format!(
                            "`{key}` is not a day word; {} ignores this line",
                            sem.engine.title()
                        ),
                    )
                    .at(a.key)
                    .label("day and month words are lower case")
                    .help(format!("write `{lower}`"))
                } else {
                    Diagnostic::new(
                        codes::INVALID_TIME_RANGE,
                        format!("`{key}` is not a day word: day and month words are lower case"),
                    )
                    .at(a.key)
                    .label(format!("{} cannot parse this line", sem.engine.title()))
                    .help(format!("write `{lower}`"))
                });
                continue;
            }
            None if kind == ObjectKind::Timeperiod && is_time_range_key(key) => {
                // A range line is named by its whole day/date part (`monday 1 september`),
                // its value is the time ranges.
                let start = time_ranges_start(value).unwrap_or(0);
                let day = value[..start].trim();
                range_key = Some(if day.is_empty() {
                    key.to_string()
                } else {
                    format!("{key} {day}")
                });
                value = value[start..].trim();
                let checked = if sem.time_ranges_atoi {
                    check_time_ranges_atoi(day, value)
                } else {
                    check_time_ranges(value)
                };
                if sem.timeperiod_entries_dropped && value.is_empty() {
                    // I5: Shinken warns and drops a day line without time ranges.
                    diags.push(
                        Diagnostic::new(
                            codes::TIMEPERIOD_ENTRY_IGNORED,
                            format!(
                                "`{key}` has no time range; {} ignores this line",
                                sem.engine.title()
                            ),
                        )
                        .at(a.key)
                        .label("no HH:MM-HH:MM after the day")
                        .help(format!(
                            "write e.g. `{key} 00:00-24:00`, or remove the line"
                        )),
                    );
                    continue;
                }
                if let Err(why) = checked {
                    diags.push(
                        Diagnostic::new(
                            codes::INVALID_TIME_RANGE,
                            format!("invalid time range for `{key}`: {why}"),
                        )
                        .at(if a.value.is_empty() { a.key } else { a.value })
                        .label("expected HH:MM-HH:MM[,HH:MM-HH:MM…]")
                        .help("write e.g. `monday 00:00-09:00,17:00-24:00`; hours go from 00 to 24, minutes from 00 to 59"),
                    );
                } else if let Some(r) = (!sem.time_ranges_atoi)
                    .then(|| past_end_of_day(value))
                    .flatten()
                {
                    diags.push(
                        Diagnostic::new(
                            codes::TIME_PAST_END_OF_DAY,
                            format!("time range `{r}` for `{key}` is not within a day"),
                        )
                        .at(a.value)
                        .label(format!(
                            "{} accepts it and counts it as seconds from midnight (Nagios 4 refuses it)",
                            sem.engine.title()
                        ))
                        .help("hours go from 00 to 24 and minutes from 00 to 59: write `24:00` for the end of the day"),
                    );
                } else if let Some(r) = backwards_range(value) {
                    // I2: every engine accepts it, and it never matches.
                    diags.push(
                        Diagnostic::new(
                            codes::BACKWARDS_TIME_RANGE,
                            format!("time range `{r}` for `{key}` ends before it starts"),
                        )
                        .at(a.value)
                        .label("the engines accept it, and it never matches")
                        .help("a range cannot cross midnight: split it, e.g. `22:00-24:00` on this day and `00:00-02:00` on the next"),
                    );
                }
                Ty::Str
            }
            None if kind == ObjectKind::Timeperiod => {
                // Every other line of a timeperiod is a date entry; one the engines cannot
                // read is refused by Nagios and Alignak (`satourday 00:00-24:00`), warned
                // about and dropped by Shinken (I5).
                let (code, what) = if sem.timeperiod_entries_dropped {
                    (
                        codes::TIMEPERIOD_ENTRY_IGNORED,
                        format!("; {} ignores this line", sem.engine.title()),
                    )
                } else {
                    (codes::INVALID_TIME_RANGE, String::new())
                };
                diags.push(
                    Diagnostic::new(
                        code,
                        format!(
                            "`{key}` is neither a timeperiod attribute nor a day or date{what}"
                        ),
                    )
                    .at(a.key)
                    .label("not a weekday, month, date or `day N`")
                    .help(format!(
                        "timeperiod lines start with a weekday (monday … sunday), a month \
                         (january …), a date (2024-12-25) or `day N`{}",
                        did_you_mean(key, TIMEPERIOD_DAY_WORDS.iter().copied())
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default()
                    )),
                );
                continue;
            }
            None => {
                if !kind.open_attributes() {
                    diags.push(unknown_attribute(kind, key, a.key));
                }
                Ty::Str
            }
        };
        let key = range_key.as_deref().unwrap_or(key);
        let name: Arc<str> = interned.unwrap_or_else(|| Arc::from(key));
        let attr = match typed(kind, name, ty, value, a.value, a.key, sem, diags) {
            Some(attr) => attr,
            None => continue,
        };
        if let Some(prev) = obj.attrs.iter_mut().find(|p| &*p.name == key) {
            if ty.is_list() && sem.repeated_lists_concatenate {
                // Lists concatenate every occurrence (Shinken's list properties).
                if let (Value::List(old), Value::List(new)) = (&mut prev.value, attr.value) {
                    old.extend(new);
                }
                prev.raw = format!("{},{}", prev.raw, attr.raw);
                prev.plus |= attr.plus;
                if ty == Ty::Entries && prev.value_span.file == attr.value_span.file {
                    // Every occurrence stays findable for diagnostics about one entry.
                    prev.value_span.start = prev.value_span.start.min(attr.value_span.start);
                    prev.value_span.end = prev.value_span.end.max(attr.value_span.end);
                }
            } else {
                if prev.raw != attr.raw {
                    diags.push(duplicate_attr(
                        key,
                        a.key,
                        prev.key_span,
                        "the last value wins",
                    ));
                }
                *prev = attr;
            }
            continue;
        }
        obj.attrs.push(attr);
    }
    if let Some(Value::Bool(false)) = obj.get("register").map(|a| &a.value) {
        obj.register = false;
    }
    if sem.none_criteria_unset {
        none_criteria(&mut obj);
    }
    if sem.nameless_objects_are_templates
        && obj.register
        && kind != ObjectKind::Service
        && kind.name_key().is_some_and(|k| obj.get(k).is_none())
        && obj.get("name").is_some()
    {
        obj.register = false;
    }
    if kind == ObjectKind::Module && obj.get("module_name").is_none() {
        // Alignak names a module by `name` (or the older `module_alias`); Shinken by
        // `module_name`.
        let named = ["name", "module_alias"]
            .iter()
            .find_map(|k| obj.get(k).filter(|_| obj.register || *k == "module_alias"))
            .cloned();
        if let Some(mut a) = named {
            a.name = "module_name".into();
            obj.attrs.push(a);
        }
    }
    Some(obj)
}

/// Nagios 4 reads `n` (`none`) in a service dependency's criteria and a host dependency's
/// notification criteria as "not set": a definition that `use`s templates inherits their
/// value; one that does not keeps the letters written after the last `n`. (A `n,u` whose
/// templates set nothing keeps `u` in Nagios; that case is read as inheriting nothing.)
fn none_criteria(obj: &mut Object) {
    let keys: &[&str] = match obj.kind {
        ObjectKind::Servicedependency => &[
            "execution_failure_criteria",
            "notification_failure_criteria",
        ],
        ObjectKind::Hostdependency => &["notification_failure_criteria"],
        _ => return,
    };
    let inherits = obj.get("use").is_some();
    obj.attrs.retain_mut(|a| {
        if !keys.contains(&&*a.name) {
            return true;
        }
        let Value::List(letters) = &mut a.value else {
            return true;
        };
        let Some(last) = letters.iter().rposition(|l| l == "n") else {
            return true;
        };
        if inherits {
            return false;
        }
        if last + 1 < letters.len() {
            letters.drain(..=last);
        }
        true
    });
}

/// Alignak's host name patterns: `host_name web[1-3]` is three hosts `web1`, `web2`, `web3`;
/// `db[0-10-%02d]` gives `db00` … `db10` (a printf format, `%d` by default). `$HOSTNAME$` in
/// `display_name`, `alias`, `notes`, `notes_url` and `action_url` becomes each host's name.
/// Only `[N-M]` or `[N-M-FORMAT]` makes a pattern: other brackets are part of the name. A
/// pattern past [`MAX_PATTERN_HOSTS`] hosts or [`MAX_PATTERN_WIDTH`] digits is refused (E0073)
/// and the host is left out.
fn name_pattern(obj: &Object) -> Option<Result<Vec<Object>, Diagnostic>> {
    if obj.kind != ObjectKind::Host || !obj.register {
        return None;
    }
    let attr = obj.get("host_name")?;
    let name = attr.raw.as_str();
    let open = name.find('[')?;
    let close = open + name[open..].find(']')?;
    let inner = &name[open + 1..close];
    let mut parts = inner.splitn(3, '-');
    let min: u32 = parts.next()?.trim().parse().ok()?;
    let max: u32 = parts.next()?.trim().parse().ok()?;
    let format = parts.next().unwrap_or("%d");
    // `%d`, `%Nd`, `%0Nd`, with text around it.
    let at = format.find('%')?;
    let spec = &format[at + 1..];
    let d = spec.find('d')?;
    let width = &spec[..d];
    if max < min || !width.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let zero = width.starts_with('0');
    let width: Option<usize> = if width.is_empty() {
        Some(0)
    } else {
        width.parse().ok()
    };
    let count = u64::from(max - min) + 1;
    let width = match width {
        Some(w) if w <= MAX_PATTERN_WIDTH && count <= MAX_PATTERN_HOSTS => w,
        _ => {
            let what = if count > MAX_PATTERN_HOSTS {
                format!("{count} hosts")
            } else {
                let digits = spec[..d].trim_start_matches('0');
                format!("names padded to {digits} digits")
            };
            return Some(Err(Diagnostic::new(
                codes::HOST_NAME_PATTERN_TOO_LARGE,
                format!("the host name pattern `[{inner}]` would make {what}"),
            )
            .at(attr.value_span)
            .label(format!(
                "monitorc expands at most {MAX_PATTERN_HOSTS} hosts of at most {MAX_PATTERN_WIDTH} digits per pattern; Alignak would try to make them all"
            ))
            .help("split the range into several host definitions, or write a narrower format such as `%03d`")));
        }
    };
    let (before, after) = (&format[..at], &spec[d + 1..]);
    let mut out = Vec::with_capacity(count as usize);
    for i in min..=max {
        let digits = i.to_string();
        let pad = if zero { "0" } else { " " }.repeat(width.saturating_sub(digits.len()));
        let host = format!(
            "{}{before}{pad}{digits}{after}{}",
            &name[..open],
            &name[close + 1..]
        );
        let mut copy = obj.clone();
        for a in &mut copy.attrs {
            if &*a.name == "host_name" {
                a.raw.clone_from(&host);
            } else if matches!(
                &*a.name,
                "display_name" | "alias" | "notes" | "notes_url" | "action_url"
            ) {
                a.raw = a.raw.replace("$HOSTNAME$", &host);
            }
        }
        out.push(copy);
    }
    Some(Ok(out))
}

/// The most hosts one Alignak name pattern may make.
const MAX_PATTERN_HOSTS: u64 = 100_000;
/// The widest `%0Nd` an Alignak name pattern may pad to.
const MAX_PATTERN_WIDTH: usize = 255;

#[allow(clippy::too_many_arguments)]
pub(crate) fn typed(
    kind: ObjectKind,
    name: Arc<str>,
    ty: Ty,
    value: &str,
    span: Span,
    key_span: Span,
    sem: &Semantics,
    diags: &mut Vec<Diagnostic>,
) -> Option<Attr> {
    let key: &str = &name;
    let (plus, body) = match value.strip_prefix('+') {
        // Nagios has no additive `use` or option list: `use +t` names a template `+t`,
        // `+d` is an unknown option.
        Some(_) if sem.engine == Engine::Nagios && (key == "use" || matches!(ty, Ty::Opts(_))) => {
            (false, value)
        }
        Some(rest) if ty.is_list() => (true, rest.trim_start()),
        // Free text where a leading `+` is the value itself (`pager +33612345678`).
        Some(_) if sem.plus_on_single_value_literal || LITERAL_PLUS.contains(&key) => {
            (false, value)
        }
        Some(_) => {
            diags.push(
                Diagnostic::new(
                    codes::PLUS_ON_SINGLE_VALUE,
                    format!("`+` on `{key}`, which holds a single value"),
                )
                .at(span)
                .label("additive value")
                .help(format!("`+` appends to inherited lists only; write `{key} {}` to override the inherited value", value[1..].trim_start())),
            );
            return None;
        }
        None => (false, value),
    };
    let make = |v: Value| Attr {
        name: name.clone(),
        key_span,
        value_span: span,
        raw: body.to_string(),
        plus,
        value: v,
    };
    // D4: Shinken and Alignak read `null` as a name in a list.
    if body == "null" && !(sem.null_list_literal && ty == Ty::List) {
        return Some(make(Value::Null));
    }
    let bad = |code, what: &str, help: String| {
        Diagnostic::new(code, format!("`{key}` takes {what}, not `{body}`"))
            .at(if span.is_empty() { key_span } else { span })
            .label(format!("expected {what}"))
            .help(help)
    };
    let v = match ty {
        Ty::Str => Value::Str,
        // F3: Nagios reads integers with `atoi` and numbers with `strtod`, refusing none, but
        // a `max_check_attempts` below 1 ("Invalid max_check_attempts value").
        Ty::Int if sem.atoi_values && (key != "max_check_attempts" || atoi(body) >= 1) => {
            Value::Int(atoi(body))
        }
        Ty::Float if sem.atoi_values => Value::Float(strtod(body)),
        Ty::Int => match body.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => {
                diags.push(bad(
                    codes::INVALID_INTEGER,
                    "an integer",
                    format!("write a whole number, e.g. `{key} 3`"),
                ));
                return None;
            }
        },
        Ty::Float => match body.parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Float(f),
            _ => {
                diags.push(bad(
                    codes::INVALID_NUMBER,
                    "a number",
                    format!("write a number, e.g. `{key} 5` or `{key} 0.5`"),
                ));
                return None;
            }
        },
        // F3: Nagios reads every boolean as `atoi(value) > 0`, never refusing one (`yes` is
        // false there).
        Ty::Bool if sem.atoi_values && parse_bool(body) == Some(true) && atoi(body) <= 0 => {
            // F3: Nagios reads `yes`, `true`, `on` with `atoi`: as 0, the opposite of what is
            // written. Checks or notifications turned off that way leave the object
            // unmonitored, silently: an error; any other switch, a warning.
            let code = if matches!(key, "active_checks_enabled" | "notifications_enabled") {
                codes::INVALID_BOOLEAN
            } else {
                codes::BOOLEAN_WORD_IS_ZERO
            };
            diags.push(
                Diagnostic::new(
                    code,
                    format!("`{key} {body}` means 0 to {}", sem.engine.title()),
                )
                .at(span)
                .label(format!(
                    "{} reads booleans as numbers: this turns `{key}` off",
                    sem.engine.title()
                ))
                .help(format!("write `{key} 1`")),
            );
            Value::Bool(false)
        }
        Ty::Bool if sem.atoi_values => Value::Bool(atoi(body) > 0),
        Ty::Bool => match parse_bool(body) {
            Some(b) => Value::Bool(b),
            None => {
                diags.push(bad(
                    codes::INVALID_BOOLEAN,
                    "a boolean",
                    "write 1 or 0 (yes/no, true/false and on/off are accepted too)".into(),
                ));
                return None;
            }
        },
        Ty::List if sem.empty_list_entries_refused && empty_list_refused(kind, key, body) => {
            let d = if kind == ObjectKind::Servicegroup {
                Diagnostic::new(
                    codes::EMPTY_LIST_ENTRY,
                    format!("an empty entry in `{key}` shifts the host,service pairs"),
                )
                .label(format!(
                    "{} keeps the empty entry: every pair after it is read shifted",
                    sem.engine.title()
                ))
                .help("remove the extra comma")
            } else {
                Diagnostic::new(codes::EMPTY_LIST_ENTRY, format!("`{key}` names no group"))
                    .label(format!("{} refuses an empty list here", sem.engine.title()))
                    .help(format!("name a group, write `{key} null` to clear an inherited value, or remove the line"))
            };
            diags.push(d.at(if span.is_empty() { key_span } else { span }));
            return None;
        }
        Ty::List
            if sem.blank_separates
                && kind == ObjectKind::Contact
                && key.ends_with("_notification_commands") =>
        {
            Value::List(split_blanks(body))
        }
        Ty::List => Value::List(split_list(body)),
        Ty::Entries => Value::List(vec![body.trim().to_string()]),
        Ty::Opts(allowed) => {
            let mut out = Vec::new();
            let opts = if sem.blank_separates {
                split_blanks(body)
            } else {
                split_list(body)
            };
            for opt in opts {
                match option_letter(&opt, allowed) {
                    Some(letter) => out.push(letter.to_string()),
                    None => {
                        diags.push(
                            Diagnostic::new(
                                codes::INVALID_OPTION,
                                format!("`{opt}` is not an option of {} `{key}`", kind.keyword()),
                            )
                            .at(if span.is_empty() { key_span } else { span })
                            .label("unknown option")
                            .help(format!(
                                "the options of `{key}` are {}",
                                allowed.replace(',', ", ")
                            )),
                        );
                        return None;
                    }
                }
            }
            Value::List(out)
        }
    };
    let mut attr = make(v);
    // Where blanks separated entries (Nagios 4), the value is written back with commas, so
    // shards and `--emit nagios` read the same list as every engine would.
    if let Value::List(l) = &attr.value {
        if sem.blank_separates && body.split(',').any(|e| e.trim().contains([' ', '\t'])) {
            attr.raw = l.join(",");
        }
    }
    Some(attr)
}

/// Free-text attributes that Nagios reads literally: a leading `+` (an international phone
/// number, an IPv6-ish address note) is text there, not an additive value. Names shown to
/// people (`alias`, `display_name`) are not among them: Shinken and Alignak refuse `+` there.
const LITERAL_PLUS: &[&str] = &[
    "action_url",
    "address",
    "address1",
    "address2",
    "address3",
    "address4",
    "address5",
    "address6",
    "email",
    "icon_image_alt",
    "notes",
    "notes_url",
    "pager",
];

/// C's `strtod` on the longest prefix that is a number; 0 when there is none.
pub fn strtod(s: &str) -> f64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    (0..=end)
        .rev()
        .find_map(|e| t[..e].parse::<f64>().ok().filter(|f| f.is_finite()))
        .unwrap_or(0.0)
}

/// C's `atoi`: leading blanks, a sign, then digits; 0 when there are none.
pub fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// Splits a comma-separated list, trimming blanks and dropping empty entries.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether Nagios 4 refuses `body` as the value of `key`: a servicegroup's `members` with an
/// empty entry, or a member-side group list that names no group.
fn empty_list_refused(kind: ObjectKind, key: &str, body: &str) -> bool {
    match (kind, key) {
        (ObjectKind::Servicegroup, "members") => body.split(',').any(|e| e.trim().is_empty()),
        (ObjectKind::Host, "hostgroups")
        | (ObjectKind::Service, "servicegroups")
        | (ObjectKind::Contact, "contactgroups") => split_list(body).is_empty(),
        _ => false,
    }
}

/// Nagios 4's `strtok(value, ", ")`: commas and blanks both separate, empty entries vanish.
fn split_blanks(s: &str) -> Vec<String> {
    s.split([',', ' ', '\t'])
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// The option letter `opt` stands for, if `allowed` accepts it. Nagios also accepts the long
/// words (`down`, `recovery`, …).
fn option_letter<'a>(opt: &'a str, allowed: &'static str) -> Option<&'a str> {
    let letter = match opt {
        "down" => "d",
        "unreachable" | "unknown" => "u",
        "recovery" => "r",
        "flapping" => "f",
        "downtime" => "s",
        "none" => "n",
        "all" => "a",
        "warning" => "w",
        "critical" => "c",
        "ok" | "up" => "o",
        "pending" => "p",
        other => other,
    };
    allowed.split(',').any(|a| a == letter).then_some(letter)
}

fn is_time_range_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    TIMEPERIOD_DAY_WORDS.contains(&lower.as_str()) || key.starts_with(|c: char| c.is_ascii_digit())
}

/// Checks the time ranges that end a timeperiod line (`00:00-09:00,17:00-24:00`); what comes
/// before them (day numbers, date ranges, `/ 3` skips) is accepted as written.
fn check_time_ranges(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("no time range".into());
    }
    for range in value.split(',') {
        let range = range.trim();
        // I3: Shinken and Alignak match `(\d\d):(\d\d)-(\d\d):(\d\d)`: `9:00` is refused,
        // `25:00` accepted (I6, see [`past_end_of_day`]).
        let ok = range.split_once('-').is_some_and(|(a, b)| {
            two_digit_clock(a.trim()).is_some() && two_digit_clock(b.trim()).is_some()
        });
        if !ok {
            return Err(format!("`{range}` is not a range HH:MM-HH:MM"));
        }
    }
    Ok(())
}

/// `HH:MM`, two digits each, as seconds from midnight (`25:00` is 90000).
fn two_digit_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
    (digits(h) && digits(m))
        .then(|| h.parse::<u32>().unwrap() * 3600 + m.parse::<u32>().unwrap() * 60)
}

/// I6: the first range of a list Shinken and Alignak accept whose clock is not one of a day
/// (`00:00-25:00`, `10:75-11:00`): they count hours and minutes as seconds from midnight, so
/// the range reaches past the day's end (or into the next hour), where Nagios 4 refuses it.
fn past_end_of_day(value: &str) -> Option<&str> {
    value.split(',').map(str::trim).find(|range| {
        range.split_once('-').is_some_and(|(a, b)| {
            [a, b]
                .iter()
                .any(|c| two_digit_clock(c.trim()).is_some() && parse_clock(c.trim()).is_none())
        })
    })
}

/// Nagios 4: the ranges are separated by single commas or blanks (an empty range between two
/// separators is refused: `09:00-12:00, 14:00-18:00` is), each read as `sscanf("%d:%d-%d:%d")`
/// (text after the fourth number is ignored: `00:00-24:00x` is 00:00-24:00), and neither end
/// may pass 24:00. A `+` before the ranges is not part of any day or date form ("Could not
/// parse timeperiod directive").
fn check_time_ranges_atoi(day: &str, value: &str) -> Result<(), String> {
    if day.ends_with(['+', '-']) {
        return Err(format!(
            "`{day}` is not a day or date (a `+` or `-` before the time ranges)"
        ));
    }
    if value.is_empty() {
        return Err("no time range".into());
    }
    for (i, range) in value.split([',', ' ', '\t']).enumerate() {
        if range.is_empty() {
            return Err(format!(
                "time range #{} is empty: Nagios 4 separates ranges by one comma, without blanks",
                i + 1
            ));
        }
        let Some([h1, m1, h2, m2]) = scan_range(range) else {
            return Err(format!("`{range}` is not a range HH:MM-HH:MM"));
        };
        for (h, m) in [(h1, m1), (h2, m2)] {
            if h * 3600 + m * 60 > 86_400 {
                return Err(format!("`{range}` ends after 24:00"));
            }
        }
    }
    Ok(())
}

/// `sscanf(range, "%d:%d-%d:%d") == 4`: four integers (each after optional blanks and a sign)
/// with `:`, `-`, `:` between them; what follows is ignored.
fn scan_range(range: &str) -> Option<[i64; 4]> {
    let mut rest = range;
    let mut out = [0i64; 4];
    for (i, sep) in [Some(':'), Some('-'), Some(':'), None]
        .into_iter()
        .enumerate()
    {
        let t = rest.trim_start();
        let sign_len = usize::from(t.starts_with(['+', '-']));
        let digits = t[sign_len..].len()
            - t[sign_len..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        if digits == 0 {
            return None;
        }
        out[i] = t[..sign_len + digits].parse().ok()?;
        rest = &t[sign_len + digits..];
        if let Some(c) = sep {
            rest = rest.strip_prefix(c)?;
        }
    }
    Some(out)
}

/// The first range of a well-formed list whose end is before its start.
fn backwards_range(value: &str) -> Option<&str> {
    value.split(',').map(str::trim).find(|range| {
        range.split_once('-').is_some_and(|(a, b)| {
            matches!((parse_clock(a.trim()), parse_clock(b.trim())), (Some(x), Some(y)) if x > y)
        })
    })
}

/// Where the time ranges of a timeperiod line start: the first `H:MM`/`HH:MM`.
fn time_ranges_start(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    (0..bytes.len()).find(|&i| {
        bytes[i].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_digit())
            && value[i..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(':')
    })
}

fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

fn duplicate_attr(key: &str, at: Span, first: Span, outcome: &str) -> Diagnostic {
    Diagnostic::new(
        codes::DUPLICATE_ATTRIBUTE,
        format!("`{key}` is set twice in this definition with different values; {outcome}"),
    )
    .at(at)
    .label("set again here")
    .secondary(first, "first set here")
    .help("remove one of the two lines")
}

/// Whether Nagios 4 accepts the line `key …` in a `kind` definition.
fn nagios_reads_line(kind: ObjectKind, key: &str) -> bool {
    if key.starts_with('_') {
        return matches!(
            kind,
            ObjectKind::Host | ObjectKind::Service | ObjectKind::Contact
        );
    }
    // Timeperiod day and date lines are checked as time ranges.
    kind == ObjectKind::Timeperiod || crate::engine::nagios_reads(kind, key)
}

/// E0031: an attribute Nagios refuses.
fn unsupported_attribute(kind: ObjectKind, key: &str, span: Span) -> Diagnostic {
    let kw = kind.keyword();
    let known_elsewhere = kind.attribute_interned(key).is_some();
    let d = Diagnostic::new(
        codes::UNSUPPORTED_ATTRIBUTE,
        format!("Nagios 4 has no `{key}` attribute on a {kw}"),
    )
    .at(span)
    .label(format!(
        "Nagios refuses the configuration: \"Invalid {kw} object directive\""
    ));
    if known_elsewhere {
        return d.help(
            "it is a Shinken/Alignak attribute: remove it, or check the tree as the engine that reads it (`--engine shinken` or `alignak`)",
        );
    }
    let candidates = kind
        .attributes()
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| crate::engine::nagios_reads(kind, n));
    match did_you_mean(key, candidates) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None if matches!(
            kind,
            ObjectKind::Host | ObjectKind::Service | ObjectKind::Contact
        ) =>
        {
            d.help(format!(
                "remove it, or write it `_{}` to make it a custom variable",
                key.to_ascii_uppercase()
            ))
        }
        None => d.help("remove it"),
    }
}

fn unknown_attribute(kind: ObjectKind, key: &str, span: Span) -> Diagnostic {
    let d = Diagnostic::new(
        codes::UNKNOWN_ATTRIBUTE,
        format!("unknown attribute `{key}` for a {}", kind.keyword()),
    )
    .at(span)
    .label("unknown attribute");
    let mut candidates: Vec<&str> = kind.attributes().iter().map(|(n, _)| *n).collect();
    if kind == ObjectKind::Timeperiod {
        candidates.extend(TIMEPERIOD_DAY_WORDS);
    }
    match did_you_mean(key, candidates) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!(
            "remove it, or write it `_{}` to make it a custom variable",
            key.to_ascii_uppercase()
        )),
    }
}

fn check_object(
    obj: &Object,
    text: &str,
    illegal: &str,
    sem: &Semantics,
    diags: &mut Vec<Diagnostic>,
) {
    let kw = obj.kind.keyword();
    if let Some(key) = obj.kind.name_key() {
        if let Some(a) = obj.get(key).filter(|a| a.raw.is_empty()) {
            diags.push(
                Diagnostic::new(codes::EMPTY_NAME, format!("`{key}` is empty"))
                    .at(a.key_span)
                    .label("no name after the key")
                    .help(format!("give the {kw} a name: `{key} NAME`")),
            );
        }
    }
    if !obj.register {
        let named = obj.template_name().is_some_and(|n| !n.is_empty());
        let service_on_hosts = obj.kind == ObjectKind::Service && obj.get("host_name").is_some();
        if !(named || service_on_hosts) {
            diags.push(
                Diagnostic::new(
                    codes::UNNAMED_TEMPLATE,
                    format!("{kw} template without a `name`: it is never used"),
                )
                .at(obj.header)
                .label("`register 0` makes this a template; every engine ignores it")
                .help("add `name TEMPLATE_NAME` so objects can `use` it, remove `register 0` to monitor it, or delete it"),
            );
        }
        return;
    }
    // D13: Shinken checks a service's hosts on its own definition, before inheritance.
    if sem.service_hosts_written
        && obj.kind == ObjectKind::Service
        && !obj.uses().is_empty()
        && obj.get("host_name").is_none()
        && obj.get("hostgroup_name").is_none()
    {
        diags.push(
            Diagnostic::new(
                codes::MISSING_REQUIRED,
                format!("service `{}` names no host in its own definition", obj.display_name()),
            )
            .at(obj.header)
            .label("`host_name` or `hostgroup_name` only from a template")
            .help("write `host_name` (or `hostgroup_name`) in this definition")
            .note(format!(
                "{} checks it before inheritance (\"a service has been defined without host_name nor hostgroups\")",
                sem.engine.title()
            )),
        );
    }
    // Attributes may come from templates: completeness of objects that use some is checked
    // after inheritance.
    if obj.uses().is_empty() {
        let missing = sem.missing_required(obj.kind, |a| obj.get_str(a));
        if !missing.is_empty() {
            diags.push(
                Diagnostic::new(
                    codes::MISSING_REQUIRED,
                    format!("{kw} `{}` lacks {}", obj.display_name(), missing.join(", ")),
                )
                .at(obj.header)
                .label(format!("this {kw} definition"))
                .help(format!(
                    "add {} to this definition, or `use` a template that sets it",
                    missing.join(", ")
                )),
            );
        }
    }
    let checked = match obj.kind {
        _ if !sem.illegal_chars_checked.contains(&obj.kind) => None,
        // `duplicate_foreach` descriptions carry `$KEY$` until expanded.
        ObjectKind::Service if obj.get("duplicate_foreach").is_none() => {
            Some("service_description")
        }
        ObjectKind::Service => None,
        kind => kind.name_key(),
    };
    if let Some(a) = checked.and_then(|k| obj.get(k)) {
        if let Some((i, c)) = a.raw.char_indices().find(|(_, c)| illegal.contains(*c)) {
            let start =
                a.value_span.start as usize + text[a.value_span.range()].find(c).unwrap_or(i);
            diags.push(
                Diagnostic::new(
                    codes::ILLEGAL_NAME_CHAR,
                    format!("`{}` contains `{c}`, which is not allowed in a {}", a.name, kw),
                )
                .at(Span::new(a.value_span.file, start, start + c.len_utf8()))
                .label("illegal character")
                .help(format!(
                    "rename it without any of {illegal} (the main config's illegal_object_name_chars)"
                )),
            );
        }
    }
}

/// Two definitions of one name: the lower `definition_order` wins, then the later one.
fn check_duplicates(ir: &Ir, sem: &Semantics, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(ObjectKind, bool, &str), usize> = HashMap::new();
    for (i, obj) in ir.objects.iter().enumerate() {
        let name = if obj.register {
            match obj.kind {
                // Extinfo objects add to a host/service; several may name the same one.
                ObjectKind::Hostextinfo | ObjectKind::Serviceextinfo => None,
                _ => obj.name(),
            }
        } else {
            obj.template_name()
        };
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            continue;
        };
        if let Some(prev) = seen.insert((obj.kind, obj.register, name), i) {
            let order = |o: &Object| match o.get("definition_order").map(|a| &a.value) {
                Some(Value::Int(n)) => *n,
                _ => 100,
            };
            let first = &ir.objects[prev];
            let outcome = if order(first) < order(obj) {
                seen.insert((obj.kind, obj.register, name), prev);
                "the first one is kept (lower definition_order)"
            } else if order(obj) < order(first) {
                "this one is kept (lower definition_order)"
            } else {
                "this one, defined last, is kept"
            };
            let what = if obj.register {
                obj.kind.keyword().to_string()
            } else {
                format!("{} template", obj.kind.keyword())
            };
            if sem.engine == Engine::Nagios {
                // F1, D10: "Duplicate definition found for host 'h1'" is fatal.
                diags.push(
                    Diagnostic::new(
                        codes::DUPLICATE_REFUSED,
                        format!("{what} `{name}` is defined twice"),
                    )
                    .at(obj.header)
                    .label("Nagios refuses the configuration: \"Duplicate definition found\"")
                    .secondary(first.header, "first defined here")
                    .help("remove one of the definitions, or rename one"),
                );
                continue;
            }
            diags.push(
                Diagnostic::new(
                    codes::DUPLICATE_DEFINITION,
                    format!("{what} `{name}` is defined twice; {outcome}"),
                )
                .at(obj.header)
                .label("defined again here")
                .secondary(first.header, "first defined here")
                .help("remove one definition, or set `definition_order` on the one that must win"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ranges() {
        assert!(check_time_ranges("00:00-24:00").is_ok());
        assert!(check_time_ranges("00:00-09:00,17:00-24:00").is_ok());
        assert_eq!(time_ranges_start("3 00:00-24:00"), Some(2));
        assert_eq!(time_ranges_start("- 2008-02-01 / 3 00:00-24:00"), Some(17));
        assert_eq!(time_ranges_start("1 - 15 9:00-17:00"), Some(7));
        assert_eq!(time_ranges_start("1 - 15"), None);
        assert!(check_time_ranges("00:00-25:00").is_ok());
        assert_eq!(past_end_of_day("00:00-25:00"), Some("00:00-25:00"));
        assert_eq!(past_end_of_day("00:00-24:00"), None);
        assert!(check_time_ranges_atoi("monday", "00:00-25:00").is_err());
        assert!(check_time_ranges("9-17").is_err());
        assert!(check_time_ranges("").is_err());
        // I2: a backwards range is well formed (the engines accept it) and never matches.
        assert!(check_time_ranges("22:00-02:00").is_ok());
        assert_eq!(
            backwards_range("08:00-12:00, 22:00-02:00"),
            Some("22:00-02:00")
        );
        assert_eq!(backwards_range("08:00-12:00"), None);
    }

    #[test]
    fn options_accept_letters_and_words() {
        assert_eq!(option_letter("d", "d,u,r"), Some("d"));
        assert_eq!(option_letter("down", "d,u,r"), Some("d"));
        assert_eq!(option_letter("w", "d,u,r"), None);
    }
}
