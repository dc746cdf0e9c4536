//! The typed intermediate representation: objects as written, before templates are resolved.
//!
//! Not serializable on purpose: the shard schema in `runtime` is the only versioned format.

use monitorc_grammar::Span;

use crate::schema::ObjectKind;

/// A typed attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Free text: the attribute's `raw` string is the value (not copied here).
    Str,
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A list of names or option letters, blanks trimmed, empty entries dropped.
    List(Vec<String>),
    /// The literal `null`: clears an inherited value.
    Null,
}

/// One attribute of one object, after the duplicate-key rules.
#[derive(Clone, Debug)]
pub struct Attr {
    /// The name as written (custom variables upper-cased, as the engines store them).
    pub name: std::sync::Arc<str>,
    pub key_span: Span,
    pub value_span: Span,
    /// The value text, with a leading `+` removed.
    pub raw: String,
    /// Written `+value`: appended to the inherited list instead of replacing it.
    pub plus: bool,
    pub value: Value,
}

impl Attr {
    pub fn as_list(&self) -> &[String] {
        match &self.value {
            Value::List(l) => l,
            _ => &[],
        }
    }
}

/// One `define` block of a known type.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: ObjectKind,
    /// `define TYPE`: where object-level diagnostics point.
    pub header: Span,
    pub span: Span,
    /// False for `register 0` templates.
    pub register: bool,
    /// Known and unknown attributes, in the order first written.
    pub attrs: Vec<Attr>,
    /// Custom `_VARS`, names upper-cased.
    pub customs: Vec<Attr>,
}

impl Object {
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| &*a.name == name)
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).map(|a| a.raw.as_str())
    }

    /// The object's own name (`host_name` of a host, ...), if its type has one and it is set.
    pub fn name(&self) -> Option<&str> {
        self.kind.name_key().and_then(|k| self.get_str(k))
    }

    /// The template name (`name`), under which other objects can `use` this one.
    pub fn template_name(&self) -> Option<&str> {
        self.get_str("name")
    }

    /// Templates this object uses, left to right.
    pub fn uses(&self) -> &[String] {
        self.get("use").map(Attr::as_list).unwrap_or(&[])
    }

    /// The name to call this object by in messages.
    pub fn display_name(&self) -> String {
        if let Some(n) = self.name() {
            return n.to_string();
        }
        if let Some(d) = self.get_str("service_description") {
            return match self.get_str("host_name") {
                Some(h) => format!("{h}/{d}"),
                None => d.to_string(),
            };
        }
        if let Some(n) = self.template_name() {
            return format!("template {n}");
        }
        format!("unnamed {}", self.kind.keyword())
    }
}

/// One `key=value` line of the main configuration (or of any file outside blocks).
#[derive(Clone, Debug)]
pub struct MainParam {
    pub key: String,
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct MainConfig {
    /// Every parameter, in load order (repeated keys such as `cfg_file` kept each time).
    pub params: Vec<MainParam>,
    /// `$USERn$`-style resource macros, the last definition of each.
    pub resource_macros: Vec<MainParam>,
}

impl MainConfig {
    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    pub fn illegal_object_name_chars(&self) -> &str {
        self.get("illegal_object_name_chars")
            .unwrap_or(crate::schema::DEFAULT_ILLEGAL_NAME_CHARS)
    }
}

/// A whole configuration as written.
#[derive(Clone, Debug, Default)]
pub struct Ir {
    pub main: MainConfig,
    /// Objects of every known type, in load order (file, then position). Shared: a file that
    /// did not change between two checks keeps its objects (`lower::Cache`).
    pub objects: Vec<std::sync::Arc<Object>>,
}

impl Ir {
    pub fn of_kind(&self, kind: ObjectKind) -> impl Iterator<Item = &Object> {
        self.objects
            .iter()
            .map(|o| &**o)
            .filter(move |o| o.kind == kind)
    }
}
