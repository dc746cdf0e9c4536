//! Every name of a checked tree, where it is written: the definitions (an object's own name, a
//! template's `name`) and the values that name an object (`use`, `hostgroups`,
//! `check_command` before its `!`, …), found in the source text itself so that each list entry
//! has its exact place.

use std::collections::HashMap;
use std::sync::Arc;

use monitorc_compiler::ir::Object;
use monitorc_compiler::schema::ObjectKind;
use monitorc_compiler::Checked;
use monitorc_grammar::{FileId, Span};

/// What a name names: an object of a type, or a template of a type (`use` names templates of
/// its own object's type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    Object(ObjectKind),
    Template(ObjectKind),
}

impl Space {
    pub fn describe(self) -> String {
        match self {
            Space::Object(k) => k.keyword().to_string(),
            Space::Template(k) => format!("{} template", k.keyword()),
        }
    }
}

/// One place a name is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub span: Span,
    pub space: Space,
    pub name: String,
    /// The definition itself (`host_name` of a host, `name` of a template).
    pub def: bool,
}

/// A `define` block, for outlines and for what the cursor is in.
#[derive(Clone, Debug)]
pub struct Block {
    pub object: usize,
    pub kind: ObjectKind,
    pub label: String,
    pub span: Span,
    pub header: Span,
}

/// The names and blocks of one file.
#[derive(Debug, Default)]
pub struct FileIndex {
    /// In text order.
    pub occurrences: Vec<Occurrence>,
    pub blocks: Vec<Block>,
    /// Where each name is defined in this file.
    pub defs: HashMap<Space, HashMap<String, Vec<Span>>>,
}

/// Every file's names. Built per file: a file whose objects did not change since the last
/// check (the same objects from the compiler's cache, at the same places) keeps its index.
#[derive(Debug, Default)]
pub struct Index {
    pub files: HashMap<FileId, Arc<FileIndex>>,
}

/// What the index keeps for the next check: each file's objects (as shared by the compiler's
/// cache), their places in the IR, and their index.
#[derive(Default)]
pub struct Cache {
    files: HashMap<FileId, Indexed>,
}

/// A file's objects, their places in the IR, and the index made of them.
type Indexed = (Vec<usize>, Vec<Arc<Object>>, Arc<FileIndex>);

/// The attributes of `kind` whose values name objects of another type.
pub fn target(kind: ObjectKind, attr: &str) -> Option<ObjectKind> {
    use ObjectKind as K;
    let common = match attr {
        "check_command" | "event_handler" => Some(K::Command),
        "check_period"
        | "notification_period"
        | "maintenance_period"
        | "snapshot_period"
        | "escalation_period"
        | "dependency_period" => Some(K::Timeperiod),
        "contacts" => Some(K::Contact),
        "contact_groups" | "contactgroups" => Some(K::Contactgroup),
        "realm" | "realm_members" | "higher_realms" => Some(K::Realm),
        "escalations" => Some(K::Escalation),
        _ => None,
    };
    let specific = match (kind, attr) {
        (K::Host, "parents") => Some(K::Host),
        (K::Host, "hostgroups") => Some(K::Hostgroup),
        (K::Service, "host_name" | "hosts") => Some(K::Host),
        (K::Service, "hostgroup_name" | "hostgroups") => Some(K::Hostgroup),
        (K::Service, "servicegroups") => Some(K::Servicegroup),
        (K::Hostgroup, "members") => Some(K::Host),
        (K::Hostgroup, "hostgroup_members") => Some(K::Hostgroup),
        (K::Servicegroup, "servicegroup_members") => Some(K::Servicegroup),
        (K::Contactgroup, "members") => Some(K::Contact),
        (K::Contactgroup, "contactgroup_members") => Some(K::Contactgroup),
        (K::Contact | K::Notificationway, a) if a.ends_with("_notification_commands") => {
            Some(K::Command)
        }
        (K::Contact | K::Notificationway, a) if a.ends_with("_notification_period") => {
            Some(K::Timeperiod)
        }
        (K::Contact, "notificationways") => Some(K::Notificationway),
        (K::Timeperiod, "exclude") => Some(K::Timeperiod),
        (
            K::Hostdependency | K::Servicedependency | K::Hostescalation | K::Serviceescalation,
            "host_name" | "dependent_host_name",
        ) => Some(K::Host),
        (
            K::Hostdependency | K::Servicedependency | K::Hostescalation | K::Serviceescalation,
            "hostgroup_name" | "dependent_hostgroup_name",
        ) => Some(K::Hostgroup),
        (
            K::Scheduler | K::Poller | K::Reactionner | K::Broker | K::Receiver | K::Arbiter,
            "modules",
        ) => Some(K::Module),
        _ => None,
    };
    specific.or(common)
}

/// The entries of a list value written at `start` in `text`: each name with its byte range.
/// A leading `+` or `!` is not part of a name; a command ends at its first `!`; a hostgroup
/// expression's operators separate names; `*` and regular expressions name nothing.
fn entries(
    text: &str,
    start: usize,
    end: usize,
    target: Option<ObjectKind>,
) -> Vec<(usize, usize)> {
    let value = &text[start..end];
    let command = target == Some(ObjectKind::Command);
    let expression = target == Some(ObjectKind::Hostgroup) || target == Some(ObjectKind::Host);
    let mut out = Vec::new();
    let mut from = 0;
    let is_sep = |c: char| c == ',' || (expression && matches!(c, '&' | '|' | '(' | ')'));
    for (i, c) in value.char_indices().chain([(value.len(), ',')]) {
        if !is_sep(c) {
            continue;
        }
        let part = &value[from..i];
        let mut s = from + (part.len() - part.trim_start().len());
        let mut e = (from + part.trim_end().len()).max(s);
        from = i + c.len_utf8();
        while s < e && matches!(value.as_bytes()[s], b'+' | b'!') {
            s += 1;
        }
        if command {
            if let Some(bang) = value[s..e].find('!') {
                e = s + bang;
            }
            e = s + value[s..e].trim_end().len();
        }
        let name = &value[s..e];
        if name.is_empty() || name == "*" || name.starts_with("r:") || name.contains('\\') {
            continue;
        }
        out.push((start + s, start + e));
    }
    out
}

impl Index {
    /// The index of `c`, taking from `cache` the files whose objects are the same (and
    /// updating it).
    pub fn build(c: &Checked, cache: &mut Cache) -> Index {
        // Each file's objects with their places in the IR, in order.
        type Objects = (Vec<usize>, Vec<Arc<Object>>);
        let mut per_file: HashMap<FileId, Objects> = HashMap::new();
        for (i, o) in c.ir.objects.iter().enumerate() {
            let (places, objects) = per_file.entry(o.span.file).or_default();
            places.push(i);
            objects.push(o.clone());
        }
        let mut files = HashMap::with_capacity(per_file.len());
        let mut kept = HashMap::with_capacity(per_file.len());
        for (file, (places, objects)) in per_file {
            let same = cache.files.remove(&file).filter(|(p, old, _)| {
                *p == places
                    && old.len() == objects.len()
                    && old.iter().zip(&objects).all(|(a, b)| Arc::ptr_eq(a, b))
            });
            let index = match same {
                Some((_, _, index)) => index,
                None => Arc::new(FileIndex::build(c, file, &places, &objects)),
            };
            files.insert(file, index.clone());
            kept.insert(file, (places, objects, index));
        }
        cache.files = kept;
        Index { files }
    }

    /// Where `name` of `space` is defined, in file order.
    pub fn defs(&self, space: Space, name: &str) -> Vec<Span> {
        let mut out: Vec<Span> = self
            .files
            .values()
            .filter_map(|f| f.defs.get(&space)?.get(name))
            .flatten()
            .copied()
            .collect();
        out.sort_by_key(|s| (s.file.0, s.start));
        out
    }

    /// The name written at `offset` of `file`.
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        self.files
            .get(&file)?
            .occurrences
            .iter()
            .find(|o| (o.span.start as usize) <= offset && offset <= o.span.end as usize)
    }

    /// The block `offset` of `file` is in.
    pub fn block(&self, file: FileId, offset: usize) -> Option<&Block> {
        self.files
            .get(&file)?
            .blocks
            .iter()
            .find(|b| (b.span.start as usize) <= offset && offset < b.span.end as usize)
    }

    /// Every place `name` of `space` is written, its definitions too if `defs`.
    pub fn all(&self, space: Space, name: &str, defs: bool) -> Vec<Span> {
        let mut out: Vec<Span> = self
            .files
            .values()
            .flat_map(|f| &f.occurrences)
            .filter(|o| o.space == space && o.name == name && (defs || !o.def))
            .map(|o| o.span)
            .collect();
        out.sort_by_key(|s| (s.file.0, s.start));
        out
    }

    /// The names defined in `space`, sorted.
    pub fn names(&self, space: Space) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .files
            .values()
            .filter_map(|f| f.defs.get(&space))
            .flat_map(|d| d.keys().map(String::as_str))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl FileIndex {
    /// The index of `file`, whose objects are `objects`, at `places` in the IR.
    fn build(c: &Checked, file: FileId, places: &[usize], objects: &[Arc<Object>]) -> FileIndex {
        let mut index = FileIndex::default();
        let text = &c.loaded.sources.get(file).text;
        for (&i, o) in places.iter().zip(objects) {
            index.blocks.push(Block {
                object: i,
                kind: o.kind,
                label: label(o),
                span: o.span,
                header: o.header,
            });
            for a in &o.attrs {
                let (s, e) = (a.value_span.start as usize, a.value_span.end as usize);
                if e > text.len() || s > e {
                    continue;
                }
                let at = |(s, e): (usize, usize)| Span::new(file, s, e);
                let (space, def, target) = if Some(&*a.name) == o.kind.name_key() {
                    (Space::Object(o.kind), true, None)
                } else if &*a.name == "name" {
                    (Space::Template(o.kind), true, None)
                } else if &*a.name == "use" {
                    (Space::Template(o.kind), false, None)
                } else if let Some(t) = target(o.kind, &a.name) {
                    (Space::Object(t), false, Some(t))
                } else {
                    continue;
                };
                let parts = if def {
                    let v = &text[s..e];
                    let s = s + (v.len() - v.trim_start().len());
                    vec![(s, s + text[s..e].trim_end().len())]
                } else {
                    entries(text, s, e, target)
                };
                for p in parts {
                    let name = text[p.0..p.1].to_string();
                    if def {
                        index
                            .defs
                            .entry(space)
                            .or_default()
                            .entry(name.clone())
                            .or_default()
                            .push(at(p));
                    }
                    index.occurrences.push(Occurrence {
                        span: at(p),
                        space,
                        name,
                        def,
                    });
                }
            }
        }
        index
            .occurrences
            .sort_by_key(|o| (o.span.start, o.span.end));
        index.occurrences.dedup();
        index.blocks.sort_by_key(|b| b.span.start);
        index.blocks.dedup_by_key(|b| b.span);
        for spans in index.defs.values_mut().flat_map(|d| d.values_mut()) {
            spans.sort_by_key(|s| s.start);
            spans.dedup();
        }
        index
    }
}

/// `host web-01`, `host template generic-host`, `service PING on web-01`.
fn label(o: &Object) -> String {
    let kw = o.kind.keyword();
    if let Some(n) = o.name() {
        return format!("{kw} {n}");
    }
    if let Some(n) = o.get_str("name") {
        return format!("{kw} template {n}");
    }
    if let Some(d) = o.get_str("service_description") {
        let on = o
            .get_str("host_name")
            .or_else(|| o.get_str("hostgroup_name"))
            .unwrap_or("");
        return format!("{kw} {d} on {on}")
            .trim_end_matches(" on ")
            .to_string();
    }
    kw.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str, target: Option<ObjectKind>) -> Vec<&str> {
        entries(text, 0, text.len(), target)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn list_entries_are_names_without_their_operators() {
        assert_eq!(names("+a, b ,c", None), ["a", "b", "c"]);
        assert_eq!(
            names("check_http!80!/x", Some(ObjectKind::Command)),
            ["check_http"]
        );
        assert_eq!(
            names("(web|db)&!old, *", Some(ObjectKind::Hostgroup)),
            ["web", "db", "old"]
        );
        assert_eq!(names("r:^web, x", Some(ObjectKind::Host)), ["x"]);
        assert!(names(" , ", None).is_empty());
    }
}
