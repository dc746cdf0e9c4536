//! Template inheritance: every real object with the attributes it gets from its `use` chain.
//!
//! Semantics (reference §3): `use a,b,c` is searched per attribute, left to right, depth
//! first; the object's own value wins; `+value` appends to what the chain gives (a template's
//! own `+value` keeps the search going and concatenates); `null` clears; custom variables take
//! the first template that defines them unless the object sets its own; `register`, `name` and
//! `use` are never inherited. Templates are resolved once each, in dependency order, and
//! objects only combine their direct templates' results: Shinken's per-attribute recursive walk
//! is what made it slow (shinken#1591).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use rayon::prelude::*;

use monitorc_grammar::diag::did_you_mean;
use monitorc_grammar::{codes, Diagnostic, Span};

use crate::engine::Semantics;
use crate::ir::{Attr, Ir, Object, Value};
use crate::schema::ObjectKind;

/// Where one resolved value came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Index of the defining object (the object itself or a template) in `Ir::objects`.
    pub object: usize,
    pub key_span: Span,
    pub value_span: Span,
}

/// One resolved attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct RAttr {
    pub value: Value,
    /// The value as text (lists joined with `,`).
    pub raw: String,
    /// Every definition that contributed, in value order (several for `+` lists).
    pub sources: Vec<Source>,
}

impl RAttr {
    pub fn as_list(&self) -> &[String] {
        match &self.value {
            Value::List(l) => l,
            _ => &[],
        }
    }
}

/// An object (a real one or a template) with its inherited attributes.
#[derive(Clone, Debug)]
pub struct ResolvedObject {
    /// Index in `Ir::objects`.
    pub id: usize,
    pub kind: ObjectKind,
    /// False for templates (`register 0`).
    pub register: bool,
    /// Shared with the templates they come from: a value set once in a template is stored
    /// once, however many objects inherit it.
    /// Sorted by name.
    pub attrs: Vec<(Arc<str>, Arc<RAttr>)>,
    /// Custom variables (upper case), sorted by name.
    pub customs: Vec<(Arc<str>, Arc<RAttr>)>,
    /// Every template this object inherits from, directly or not, depth first, once each.
    pub templates: Arc<[String]>,
    /// Attributes whose resolved value is `null`, where that cancels what a service takes
    /// from its host (D4, D5: Nagios); empty elsewhere. Sorted.
    pub nulled: Box<[Arc<str>]>,
}

/// Looks `key` up in a list sorted by name.
fn find<'v, V>(list: &'v [(Arc<str>, V)], key: &str) -> Option<&'v V> {
    list.binary_search_by(|(k, _)| short_cmp(k, key))
        .ok()
        .map(|i| &list[i].1)
}

/// `a.cmp(b)` for attribute names, which are short: a byte loop, without the call to `memcmp`
/// that dominated lookups (about 15 % of a whole check).
#[inline]
pub(crate) fn short_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

impl ResolvedObject {
    pub fn get(&self, key: &str) -> Option<&RAttr> {
        find(&self.attrs, key).map(|a| &**a)
    }

    /// The attribute as shared with the template that set it.
    pub fn get_shared(&self, key: &str) -> Option<&Arc<RAttr>> {
        find(&self.attrs, key)
    }

    /// Whether `key` was set to `null` where that counts as set (see `nulled`).
    pub fn is_nulled(&self, key: &str) -> bool {
        self.nulled.iter().any(|k| &**k == key)
    }

    pub fn custom(&self, key: &str) -> Option<&RAttr> {
        find(&self.customs, key).map(|a| &**a)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).map(|a| a.raw.as_str())
    }

    pub fn list(&self, key: &str) -> &[String] {
        self.get(key).map(|a| a.as_list()).unwrap_or(&[])
    }

    pub fn name(&self) -> Option<&str> {
        self.kind.name_key().and_then(|k| self.get_str(k))
    }
}

#[derive(Debug, Default)]
pub struct Resolved {
    /// Every object, indexed like `Ir::objects`. Shared: an object that an edit did not touch
    /// keeps its resolution from the previous check (`resolve::Cache`).
    pub objects: Vec<Arc<ResolvedObject>>,
}

impl Resolved {
    /// Real (registered) objects of one type.
    pub fn of_kind(&self, kind: ObjectKind) -> impl Iterator<Item = &ResolvedObject> {
        self.objects
            .iter()
            .map(|o| &**o)
            .filter(move |o| o.kind == kind && o.register)
    }

    /// Templates (`register 0`) of one type.
    pub fn templates_of_kind(&self, kind: ObjectKind) -> impl Iterator<Item = &ResolvedObject> {
        self.objects
            .iter()
            .map(|o| &**o)
            .filter(move |o| o.kind == kind && !o.register)
    }
}

/// An attribute as a template passes it on: `open` when it is only `+` additions, so the
/// search goes on to the next template and concatenates.
#[derive(Clone, Debug)]
struct Partial {
    attr: Arc<RAttr>,
    open: bool,
}

/// A template as its users see it.
#[derive(Clone, Debug, Default)]
struct Template {
    /// Sorted by name.
    attrs: Vec<(Arc<str>, Partial)>,
    customs: Vec<(Arc<str>, Arc<RAttr>)>,
}

/// Attributes that are never inherited.
const NOT_INHERITED: &[&str] = &["register", "name", "use"];

/// What resolving keeps for the next check of the same tree: the objects it resolved, their
/// templates' results and its own. An object is resolved again only when it changed (it is
/// not the same `Arc` from `lower::Cache`), its templates changed, or objects moved.
#[derive(Default)]
pub struct Cache {
    engine: Option<crate::engine::Engine>,
    objects: Vec<Arc<Object>>,
    /// Each template's kind, name and place, sorted.
    templates: Vec<(ObjectKind, String, usize)>,
    uses: Vec<Vec<usize>>,
    memo: Vec<Option<Template>>,
    /// What ordering the templates reported (their loops).
    order_diags: Vec<Diagnostic>,
    resolved: Vec<Arc<ResolvedObject>>,
}

pub fn resolve(ir: &Ir, sem: &Semantics, diags: &mut Vec<Diagnostic>) -> Resolved {
    resolve_cached(ir, sem, diags, None)
}

/// [`resolve`], taking from `cache` what the changes since it was filled cannot have changed
/// (and updating it). The result is the same as without the cache.
pub fn resolve_cached(
    ir: &Ir,
    sem: &Semantics,
    diags: &mut Vec<Diagnostic>,
    cache: Option<&mut Cache>,
) -> Resolved {
    let index = TemplateIndex::new(ir, sem);
    let uses = index.link(ir, sem, diags);
    let mut templates: Vec<(ObjectKind, String, usize)> = index
        .by_name
        .iter()
        .map(|(&(k, n), &i)| (k, n.to_string(), i))
        .collect();
    templates.sort_unstable();
    // The previous results hold while every template is the same object at the same place
    // using the same templates: then every template passes on what it passed on before.
    let prev = cache.as_deref().filter(|c| {
        c.engine == Some(sem.engine)
            && c.objects.len() == ir.objects.len()
            && c.templates == templates
            && templates.iter().all(|&(_, _, t)| {
                Arc::ptr_eq(&c.objects[t], &ir.objects[t]) && c.uses[t] == uses[t]
            })
    });

    // Templates, in dependency order: each one's attributes as it passes them on.
    let (computed, order_diags) = match prev {
        Some(c) => (None, c.order_diags.clone()),
        None => {
            let mut order_diags = Vec::new();
            let order = index.order(ir, &uses, &mut order_diags);
            let mut memo: Vec<Option<Template>> = vec![None; ir.objects.len()];
            for &t in &order {
                memo[t] = Some(Template {
                    attrs: combine(ir, t, &uses[t], &memo, true),
                    customs: customs(ir, t, &uses[t], &memo),
                });
            }
            (Some(memo), order_diags)
        }
    };
    diags.extend(order_diags.iter().cloned());
    let memo: &[Option<Template>] = match (&computed, prev) {
        (Some(m), _) => m,
        (None, Some(c)) => &c.memo,
        (None, None) => unreachable!("a memo is computed when none is kept"),
    };
    // Transitive template names, for the objects that show or use them: real objects, and
    // service templates that make services on the hosts of a host template. Objects with the
    // same `use` share one list.
    let mut names: HashMap<&[usize], Arc<[String]>> = HashMap::new();
    let empty: Arc<[String]> = Arc::from(Vec::new());
    let names_of: Vec<Arc<[String]>> = ir
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| {
            if uses[i].is_empty()
                || !(o.register || (o.kind == ObjectKind::Service && o.get("host_name").is_some()))
            {
                return empty.clone();
            }
            names
                .entry(&uses[i])
                .or_insert_with(|| template_names(ir, &uses[i], &uses))
                .clone()
        })
        .collect();

    let objects: Vec<Arc<ResolvedObject>> = ir
        .objects
        .par_iter()
        .enumerate()
        .map(|(i, o)| {
            if let Some(c) = prev {
                if Arc::ptr_eq(&c.objects[i], o) && c.uses[i] == uses[i] {
                    return c.resolved[i].clone();
                }
            }
            let (nulled, attrs): (Vec<_>, Vec<_>) = combine(ir, i, &uses[i], memo, false)
                .into_iter()
                .partition(|(_, p)| p.attr.value == Value::Null);
            let attrs = attrs.into_iter().map(|(k, p)| (k, p.attr)).collect();
            let nulled = if sem.null_cancels_implied {
                nulled.into_iter().map(|(k, _)| k).collect()
            } else {
                Box::default()
            };
            Arc::new(ResolvedObject {
                nulled,
                id: i,
                kind: o.kind,
                register: o.register,
                attrs,
                customs: customs(ir, i, &uses[i], memo),
                templates: names_of[i].clone(),
            })
        })
        .collect();
    let resolved = Resolved { objects };
    check_required(ir, &resolved, sem, diags);
    if let Some(c) = cache {
        let memo = match computed {
            Some(m) => m,
            None => std::mem::take(&mut c.memo),
        };
        *c = Cache {
            engine: Some(sem.engine),
            objects: ir.objects.clone(),
            templates,
            uses,
            memo,
            order_diags,
            resolved: resolved.objects.clone(),
        };
    }
    resolved
}

/// The attributes of object `i` given its templates' memos, sorted by name: one merge of its
/// own attributes (sorted here) with each template's sorted list, so each name is compared
/// with its neighbours only (names are interned: most comparisons are pointer equality).
fn combine(
    ir: &Ir,
    i: usize,
    uses: &[usize],
    memo: &[Option<Template>],
    template: bool,
) -> Vec<(Arc<str>, Partial)> {
    let obj = &ir.objects[i];
    let mut own_attrs: Vec<&Attr> = obj.attrs.iter().collect();
    // Stable: of two lines with one name, the first is the object's value (`Object::get`).
    own_attrs.sort_by(|a, b| a.name.cmp(&b.name));
    let lists: Vec<&[(Arc<str>, Partial)]> = uses
        .iter()
        .map(|&u| memo[u].as_ref().map_or(&[][..], |t| &t.attrs[..]))
        .collect();
    let same = |a: &Arc<str>, b: &Arc<str>| Arc::ptr_eq(a, b) || **a == **b;
    let mut pos = vec![0usize; lists.len()];
    let mut found: Vec<Option<&Partial>> = vec![None; lists.len()];
    let mut o = 0usize;
    let mut out = Vec::with_capacity(own_attrs.len() + lists.first().map_or(0, |l| l.len()));
    loop {
        // The smallest name at the head of any list.
        let mut key: Option<&Arc<str>> = own_attrs.get(o).map(|a| &a.name);
        for (l, &p) in lists.iter().zip(&pos) {
            if let Some((k, _)) = l.get(p) {
                if key.is_none_or(|m| !same(k, m) && **k < **m) {
                    key = Some(k);
                }
            }
        }
        let Some(key) = key.cloned() else { break };
        let own_attr = match own_attrs.get(o) {
            Some(a) if same(&a.name, &key) => {
                while own_attrs.get(o).is_some_and(|b| same(&b.name, &key)) {
                    o += 1;
                }
                Some(*a)
            }
            _ => None,
        };
        for ((l, p), f) in lists.iter().zip(pos.iter_mut()).zip(found.iter_mut()) {
            *f = None;
            if let Some((k, part)) = l.get(*p) {
                if same(k, &key) {
                    *f = Some(part);
                    *p += 1;
                }
            }
        }
        if NOT_INHERITED.contains(&&*key) {
            if let Some(a) = own_attr {
                let attr = own(i, a);
                out.push((key, Partial { attr, open: false }));
            }
            continue;
        }
        if let Some(p) = attribute(i, own_attr, &found, template) {
            out.push((key, p));
        }
    }
    out
}

fn own(i: usize, a: &Attr) -> Arc<RAttr> {
    Arc::new(RAttr {
        value: a.value.clone(),
        raw: a.raw.clone(),
        sources: vec![Source {
            object: i,
            key_span: a.key_span,
            value_span: a.value_span,
        }],
    })
}

/// One attribute of object `i`: its own value, else the first template (left to right) that
/// has one, with `+` additions concatenated on the way.
fn attribute(
    i: usize,
    own_attr: Option<&Attr>,
    found: &[Option<&Partial>],
    template: bool,
) -> Option<Partial> {
    if let Some(a) = own_attr.filter(|a| !a.plus) {
        return Some(Partial {
            attr: own(i, a),
            open: false,
        });
    }
    let mut acc: Option<Arc<RAttr>> = None;
    let mut closed = false;
    for p in found.iter().flatten() {
        // Earlier additions first, then this template's value.
        acc = Some(match acc {
            None => p.attr.clone(),
            Some(prev) => concat(&prev, &p.attr),
        });
        if !p.open {
            closed = true;
            break;
        }
    }
    if let Some(a) = own_attr {
        // Own `+value`: appended after what the chain gives.
        let mine = own(i, a);
        acc = Some(match acc {
            None => mine,
            Some(prev) => concat(&prev, &mine),
        });
    }
    acc.map(|attr| Partial {
        attr,
        // Only templates pass on an open (purely additive) list; a real object ends the chain.
        open: template && !closed,
    })
}

fn concat(a: &RAttr, b: &RAttr) -> Arc<RAttr> {
    let mut list = a.as_list().to_vec();
    for v in b.as_list() {
        // Alignak de-duplicates list values, preserving order.
        if !list.contains(v) {
            list.push(v.clone());
        }
    }
    let mut sources = a.sources.clone();
    sources.extend(b.sources.iter().cloned());
    Arc::new(RAttr {
        raw: list.join(","),
        value: Value::List(list),
        sources,
    })
}

/// Custom variables: own first, then each template's (left to right, each already resolved
/// depth first): the first definition wins.
fn customs(
    ir: &Ir,
    i: usize,
    uses: &[usize],
    memo: &[Option<Template>],
) -> Vec<(Arc<str>, Arc<RAttr>)> {
    let own_customs = &ir.objects[i].customs;
    if uses.is_empty() && own_customs.is_empty() {
        return Vec::new();
    }
    let mut out: BTreeMap<&Arc<str>, Arc<RAttr>> = BTreeMap::new();
    for c in own_customs {
        out.insert(&c.name, own(i, c));
    }
    for &u in uses {
        for (k, v) in memo[u].iter().flat_map(|t| &t.customs) {
            out.entry(k).or_insert_with(|| v.clone());
        }
    }
    out.into_iter().map(|(k, v)| (k.clone(), v)).collect()
}

/// Transitive template names, depth first, left to right, each name once: a walk over the
/// `use` graph that visits each template once (linear in the chain, loops included).
fn template_names(ir: &Ir, uses: &[usize], all_uses: &[Vec<usize>]) -> Arc<[String]> {
    let mut out: Vec<String> = Vec::new();
    let mut named: HashSet<&str> = HashSet::new();
    let mut visited: HashSet<usize> = HashSet::new();
    let mut stack: Vec<usize> = uses.iter().rev().copied().collect();
    while let Some(u) = stack.pop() {
        if !visited.insert(u) {
            continue;
        }
        if let Some(n) = ir.objects[u].template_name() {
            if named.insert(n) {
                out.push(n.to_string());
            }
        }
        stack.extend(all_uses[u].iter().rev());
    }
    out.into()
}

/// Templates by kind and name, the winner of duplicates chosen like `lower` does.
struct TemplateIndex<'a> {
    by_name: HashMap<(ObjectKind, &'a str), usize>,
}

impl<'a> TemplateIndex<'a> {
    fn new(ir: &'a Ir, sem: &Semantics) -> TemplateIndex<'a> {
        let mut by_name: HashMap<(ObjectKind, &str), usize> = HashMap::new();
        let order = |o: &Object| match o.get("definition_order").map(|a| &a.value) {
            Some(Value::Int(n)) => *n,
            _ => 100,
        };
        for (i, o) in ir.objects.iter().enumerate() {
            let Some(name) = o.template_name().filter(|n| !n.is_empty()) else {
                continue;
            };
            if o.register && !sem.registered_templates {
                continue;
            }
            match by_name.get(&(o.kind, name)) {
                Some(&prev) if order(&ir.objects[prev]) < order(o) => {}
                _ => {
                    by_name.insert((o.kind, name), i);
                }
            }
        }
        TemplateIndex { by_name }
    }

    /// Each object's templates as indices; unknown names are reported once per name.
    fn link(&self, ir: &Ir, sem: &Semantics, diags: &mut Vec<Diagnostic>) -> Vec<Vec<usize>> {
        let mut unknown: BTreeMap<(ObjectKind, &str), Vec<(usize, Span)>> = BTreeMap::new();
        let uses = ir
            .objects
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let mut v = Vec::new();
                for name in o.uses() {
                    match self.by_name.get(&(o.kind, name.as_str())) {
                        Some(&t) => v.push(t),
                        None => {
                            let span = o.get("use").map(|a| a.value_span).unwrap_or(o.header);
                            unknown
                                .entry((o.kind, name.as_str()))
                                .or_default()
                                .push((i, span));
                        }
                    }
                }
                v
            })
            .collect();
        for ((kind, name), users) in unknown {
            let kw = kind.keyword();
            let candidates: Vec<&str> = self
                .by_name
                .keys()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| *n)
                .collect();
            let (first, span) = users[0];
            let (code, label) = if sem.unknown_template_refused {
                (
                    codes::UNKNOWN_TEMPLATE,
                    format!("no {kw} template is named `{name}`"),
                )
            } else {
                (
                    codes::UNKNOWN_TEMPLATE_IGNORED,
                    format!(
                        "no {kw} template is named `{name}`: {} warns and inherits nothing from it",
                        sem.engine.title()
                    ),
                )
            };
            let registered = !sem.registered_templates
                && ir
                    .objects
                    .iter()
                    .any(|o| o.kind == kind && o.register && o.template_name() == Some(name));
            let mut d = Diagnostic::new(code, format!("unknown {kw} template `{name}`"))
                .at(span)
                .label(label);
            if sem.unknown_template_refused && users.iter().all(|(i, _)| !ir.objects[*i].register) {
                // Nagios 4 resolves objects newest first, each template when the first object
                // using it is resolved: a template it reaches that way only logs the error,
                // one it reaches on its own aborts. monitorc does not depend on that order.
                d = d.note(format!(
                    "{} prints this error, and passes only when every {kw} using a template that names it is resolved first",
                    sem.engine.title()
                ));
            }
            if registered {
                d = d.note(format!(
                    "a registered {kw} has `name {name}`; {} takes templates only from `register 0` definitions",
                    sem.engine.title()
                ));
            }
            if users.len() > 1 {
                let mut names: Vec<String> = users
                    .iter()
                    .map(|(i, _)| ir.objects[*i].display_name())
                    .collect();
                names.dedup();
                let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
                d = d.note(format!(
                    "{} {kw} definitions use it: {}{}",
                    users.len(),
                    shown.join(", "),
                    if names.len() > 5 { ", …" } else { "" }
                ));
            } else {
                d = d.note(format!("used by {}", ir.objects[first].display_name()));
            }
            d = match did_you_mean(name, candidates) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "define it (`define {kw} {{ name {name} … register 0 }}`) or remove it from `use`"
                )),
            };
            diags.push(d);
        }
        uses
    }

    /// Templates in dependency order (a template after those it uses). Loops are reported
    /// with their whole cycle, and the edges that close them are ignored.
    fn order(&self, ir: &Ir, uses: &[Vec<usize>], diags: &mut Vec<Diagnostic>) -> Vec<usize> {
        let templates: Vec<usize> = {
            let mut t: Vec<usize> = self.by_name.values().copied().collect();
            t.sort_unstable();
            t
        };
        let mut graph: DiGraph<usize, ()> = DiGraph::new();
        let mut node: HashMap<usize, NodeIndex> = HashMap::new();
        for &t in &templates {
            node.insert(t, graph.add_node(t));
        }
        for &t in &templates {
            for &u in &uses[t] {
                graph.add_edge(node[&t], node[&u], ());
            }
        }
        // Strongly connected components come out in reverse topological order: dependencies
        // first, which is the order templates must be resolved in.
        let mut order = Vec::new();
        for scc in petgraph::algo::kosaraju_scc(&graph) {
            let mut members: Vec<usize> = scc.iter().map(|n| graph[*n]).collect();
            members.sort_unstable();
            let looped = members.len() > 1 || uses[members[0]].contains(&members[0]);
            if !looped {
                order.extend(members);
                continue;
            }
            let inside: HashSet<usize> = members.iter().copied().collect();
            report_loop(ir, &members, &inside, uses, diags);
            // Inside a loop: depth first from the smallest member, post-order, so the `use`
            // that closes the loop (a back edge) finds its target unresolved and is ignored.
            // Each member is entered once: linear in the loop's length.
            let inner = |t: usize| -> std::vec::IntoIter<usize> {
                let v: Vec<usize> = uses[t]
                    .iter()
                    .copied()
                    .filter(|u| inside.contains(u))
                    .collect();
                v.into_iter()
            };
            let mut done = Vec::new();
            let mut seen: HashSet<usize> = HashSet::from([members[0]]);
            let mut stack = vec![(members[0], inner(members[0]))];
            while let Some((t, mut next)) = stack.pop() {
                if let Some(u) = next.next() {
                    stack.push((t, next));
                    if seen.insert(u) {
                        stack.push((u, inner(u)));
                    }
                } else {
                    done.push(t);
                }
            }
            order.extend(done);
        }
        order
    }
}

fn report_loop(
    ir: &Ir,
    members: &[usize],
    inside: &HashSet<usize>,
    uses: &[Vec<usize>],
    diags: &mut Vec<Diagnostic>,
) {
    let start = members[0];
    let obj = &ir.objects[start];
    let kw = obj.kind.keyword();
    let name = |i: usize| ir.objects[i].template_name().unwrap_or("?").to_string();
    let span = obj.get("use").map(|a| a.value_span).unwrap_or(obj.header);
    // Walk the cycle from the smallest member, always taking the first `use` inside the loop.
    let mut path = vec![start];
    let mut on_path: HashSet<usize> = HashSet::from([start]);
    let mut cur = start;
    loop {
        let next = *uses[cur]
            .iter()
            .find(|u| inside.contains(u))
            .expect("a loop member uses another");
        path.push(next);
        if !on_path.insert(next) {
            break;
        }
        cur = next;
    }
    let chain: Vec<String> = path.iter().map(|&i| format!("`{}`", name(i))).collect();
    let mut d = if members.len() == 1 {
        Diagnostic::new(
            codes::TEMPLATE_LOOP,
            format!("{kw} template `{}` uses itself", name(start)),
        )
        .at(span)
        .label("this `use` names the template itself")
    } else {
        Diagnostic::new(
            codes::TEMPLATE_LOOP,
            format!(
                "{kw} templates use each other in a loop: {}",
                crate::expand::join_cycle(&chain, " -> ")
            ),
        )
        .at(span)
        .label("the loop starts here")
    };
    for &i in path[1..path.len() - 1].iter().take(8) {
        let o = &ir.objects[i];
        d = d.secondary(
            o.get("use").map(|a| a.value_span).unwrap_or(o.header),
            format!("`{}` continues the loop", name(i)),
        );
    }
    d = d
        .help("remove one `use` of the loop; inheritance must go one way")
        .note("objects using these templates inherit as if the loop's last `use` were absent");
    diags.push(d);
}

fn check_required(ir: &Ir, resolved: &Resolved, sem: &Semantics, diags: &mut Vec<Diagnostic>) {
    for r in resolved.objects.iter().filter(|r| r.register) {
        let obj = &ir.objects[r.id];
        // Objects without templates were checked when lowered.
        if obj.uses().is_empty() {
            continue;
        }
        let missing = sem.missing_required(r.kind, |a| r.get(a).map(|x| x.raw.as_str()));
        if !missing.is_empty() {
            let kw = r.kind.keyword();
            diags.push(
                Diagnostic::new(
                    codes::MISSING_REQUIRED,
                    format!("{kw} `{}` lacks {}", obj.display_name(), missing.join(", ")),
                )
                .at(obj.header)
                .label(format!("neither this {kw} nor its templates set it"))
                .help(format!(
                    "add {} to this definition or to one of its templates",
                    missing.join(", ")
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use monitorc_grammar::{FileId, Loaded, Origin, SourceFile};

    fn resolve_text(text: &str) -> (Ir, Resolved, Vec<Diagnostic>) {
        let mut loaded = Loaded::default();
        let (tree, mut diags) = monitorc_grammar::parse(FileId(0), text);
        loaded
            .sources
            .add(SourceFile::new("test.cfg".into(), text.into()));
        loaded.trees.push(std::sync::Arc::new(tree));
        loaded.origins.push(Origin::Root);
        let (ir, d) = crate::lower::lower(&loaded, &crate::engine::NAGIOS);
        diags.extend(d);
        let r = resolve(&ir, &crate::engine::NAGIOS, &mut diags);
        // These texts are about inheritance, not completeness: Nagios' required
        // `max_check_attempts` is left out of them.
        diags.retain(|d| d.code != codes::MISSING_REQUIRED);
        (ir, r, diags)
    }

    fn host<'a>(r: &'a Resolved, name: &str) -> &'a ResolvedObject {
        r.of_kind(ObjectKind::Host)
            .find(|h| h.name() == Some(name))
            .unwrap()
    }

    const TEMPLATES: &str = "
define host {
    name        tA
    notes       from-tA
    hostgroups  hgA
    _X          x-from-tA
    register    0
}
define host {
    name        tB
    notes       from-tB
    notes_url   url-from-tB
    hostgroups  hgB
    _X          x-from-tB
    _Y          y-from-tB
    register    0
}
";

    #[test]
    fn left_to_right_depth_first_per_attribute() {
        let text = format!(
            "{TEMPLATES}
define host {{
    host_name  ab
    use        tA,tB
}}
define host {{
    host_name  ba
    use        tB,tA
}}
"
        );
        let (_, r, diags) = resolve_text(&text);
        assert!(diags.is_empty(), "{diags:?}");
        let ab = host(&r, "ab");
        assert_eq!(ab.get_str("notes"), Some("from-tA"));
        // Set only in the later template: still arrives.
        assert_eq!(ab.get_str("notes_url"), Some("url-from-tB"));
        assert_eq!(ab.custom("_X").unwrap().raw, "x-from-tA");
        assert_eq!(ab.custom("_Y").unwrap().raw, "y-from-tB");
        assert_eq!(*ab.templates, ["tA", "tB"]);
        assert_eq!(host(&r, "ba").get_str("notes"), Some("from-tB"));
        // `register` and `name` are never inherited.
        assert!(ab.get("register").is_none() && ab.get("name").is_none());
    }

    #[test]
    fn plus_appends_to_the_first_value_found_and_null_clears() {
        let text = format!(
            "{TEMPLATES}
define host {{
    name        tPlus
    hostgroups  +hgPlus
    use         tB
    register    0
}}
define host {{
    host_name   plus
    use         tA,tB
    hostgroups  +hgNew
    notes       null
    _X          own
}}
define host {{
    host_name   chained
    use         tPlus
    hostgroups  +hgOwn
}}
"
        );
        let (_, r, diags) = resolve_text(&text);
        assert!(diags.is_empty(), "{diags:?}");
        let p = host(&r, "plus");
        // The probe of the reference: tB's hgB is lost, hgNew appended to tA's.
        assert_eq!(p.list("hostgroups"), ["hgA", "hgNew"]);
        assert!(p.get("notes").is_none(), "null clears the inherited value");
        assert_eq!(p.custom("_X").unwrap().raw, "own");
        // A template's own `+` continues the search and concatenates.
        assert_eq!(
            host(&r, "chained").list("hostgroups"),
            ["hgB", "hgPlus", "hgOwn"]
        );
        assert_eq!(*host(&r, "chained").templates, ["tPlus", "tB"]);
    }

    #[test]
    fn unknown_templates_are_reported_once_per_name() {
        let text = "
define host {
    name      generic-host
    register  0
}
define host {
    host_name a
    use       generic-hots
}
define host {
    host_name b
    use       generic-hots
}
";
        let (_, _, diags) = resolve_text(text);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, codes::UNKNOWN_TEMPLATE);
        assert_eq!(
            diags[0].help.as_deref(),
            Some("did you mean `generic-host`?")
        );
        assert!(
            diags[0].notes[0].starts_with("2 host definitions use it"),
            "{:?}",
            diags[0].notes
        );
    }

    #[test]
    fn loops_print_the_cycle_and_do_not_hang() {
        let text = "
define host {
    name      a
    use       b
    register  0
}
define host {
    name      b
    use       c
    register  0
}
define host {
    name      c
    use       a
    notes     from-c
    register  0
}
define host {
    name      self
    use       self
    register  0
}
define host {
    host_name h
    use       a,self
}
";
        let (_, r, mut diags) = resolve_text(text);
        monitorc_grammar::diag::sort(&mut diags);
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "host templates use each other in a loop: `a` -> `b` -> `c` -> `a`",
                "host template `self` uses itself",
            ]
        );
        assert_eq!(host(&r, "h").get_str("notes"), Some("from-c"));
        assert_eq!(*host(&r, "h").templates, ["a", "b", "c", "self"]);
    }
}
