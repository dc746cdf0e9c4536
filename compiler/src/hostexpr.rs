//! Host selection expressions: `hostgroup_name` values such as `linux,!dmz`,
//! `(web|db)&paris` or `*`, and host-template expressions of services on host templates.
//!
//! Grammar (Shinken's complex expressions): `,` and `|` are union, `&` (and Shinken's `+`)
//! intersection, `!` negation, parentheses group, `*` is every host. Within one union or
//! intersection, negated terms are subtracted from the combination of the others (or from
//! every host when there is no other term).

use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    All,
    Name(String),
    Not(Box<Expr>),
    Or(Vec<Expr>),
    And(Vec<Expr>),
}

/// Parses an expression; `Err` carries a message about the first syntax problem.
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text);
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    match p.tokens.get(p.pos) {
        None => Ok(e),
        Some(t) => Err(format!("unexpected `{t}`")),
    }
}

/// Whether a value needs the expression parser (else it is a plain comma list).
pub fn is_complex(text: &str) -> bool {
    text.contains(['(', ')', '&', '|', '!', '*'])
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if matches!(c, ',' | '|' | '&' | '+' | '!' | '(' | ')' | '*') {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
            out.push(c.to_string());
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
    depth: usize,
}

/// Parentheses and `!` nest at most this deep (the parser recurses).
const MAX_DEPTH: usize = 200;

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.and()?];
        while matches!(self.peek(), Some(",") | Some("|")) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap()
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.unary()?];
        while matches!(self.peek(), Some("&") | Some("+")) {
            self.pos += 1;
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap()
        } else {
            Expr::And(terms)
        })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some("!") => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some("(") => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(")") {
                    return Err("`(` is not closed".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some("*") => {
                self.pos += 1;
                Ok(Expr::All)
            }
            Some(t) if !matches!(t, "," | "|" | "&" | "+" | ")") => {
                let name = t.to_string();
                self.pos += 1;
                Ok(Expr::Name(name))
            }
            Some(t) => Err(format!("unexpected `{t}`")),
            None => Err("the expression ends too early".into()),
        }
    }
}

impl Expr {
    /// Every name the expression mentions, in order.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::All => {}
            Expr::Name(n) => out.push(n),
            Expr::Not(e) => e.collect(out),
            Expr::Or(v) | Expr::And(v) => v.iter().for_each(|e| e.collect(out)),
        }
    }

    /// Evaluates against `all` (every host) and `members` (the hosts a name stands for).
    pub fn eval<T: Ord + Copy>(
        &self,
        all: &BTreeSet<T>,
        members: &dyn Fn(&str) -> BTreeSet<T>,
    ) -> BTreeSet<T> {
        match self {
            Expr::All => all.clone(),
            Expr::Name(n) => members(n),
            Expr::Not(e) => all.difference(&e.eval(all, members)).copied().collect(),
            Expr::Or(v) | Expr::And(v) => {
                let (neg, pos): (Vec<&Expr>, Vec<&Expr>) =
                    v.iter().partition(|e| matches!(e, Expr::Not(_)));
                let mut acc: Option<BTreeSet<T>> = None;
                for e in pos {
                    let s = e.eval(all, members);
                    acc = Some(match (acc, self) {
                        (None, _) => s,
                        (Some(a), Expr::Or(_)) => a.union(&s).copied().collect(),
                        (Some(a), _) => a.intersection(&s).copied().collect(),
                    });
                }
                let mut acc = acc.unwrap_or_else(|| all.clone());
                for e in neg {
                    if let Expr::Not(inner) = e {
                        for x in inner.eval(all, members) {
                            acc.remove(&x);
                        }
                    }
                }
                acc
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str) -> Vec<u32> {
        let all: BTreeSet<u32> = (1..=6).collect();
        let members = |n: &str| -> BTreeSet<u32> {
            match n {
                "web" => [1, 2, 3].into(),
                "db" => [3, 4].into(),
                "paris" => [1, 3, 5].into(),
                _ => BTreeSet::new(),
            }
        };
        parse(text)
            .unwrap()
            .eval(&all, &members)
            .into_iter()
            .collect()
    }

    #[test]
    fn operators() {
        assert_eq!(eval("web,db"), [1, 2, 3, 4]);
        assert_eq!(eval("web|db"), [1, 2, 3, 4]);
        assert_eq!(eval("web&db"), [3]);
        assert_eq!(eval("web,!db"), [1, 2]);
        assert_eq!(eval("(web|db)&paris"), [1, 3]);
        assert_eq!(eval("*"), [1, 2, 3, 4, 5, 6]);
        assert_eq!(eval("!web"), [4, 5, 6]);
        assert_eq!(eval("*&!paris"), [2, 4, 6]);
        assert_eq!(eval(" web , paris "), [1, 2, 3, 5]);
    }

    #[test]
    fn syntax_errors() {
        assert!(parse("(web").is_err());
        assert!(parse("web,").is_err());
        assert!(parse("web)").is_err());
        assert!(parse(&"(".repeat(100_000)).is_err());
        assert!(parse(&"!".repeat(100_000)).is_err());
        assert_eq!(parse("a&b").unwrap().names(), ["a", "b"]);
    }
}
