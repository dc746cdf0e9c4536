//! Business rules: the expression after `bp_rule!` in a check command (Shinken and Alignak).
//!
//! ```text
//! rule    := term (('&' | '|') term)*
//! term    := '!'* [OF] ( '(' rule ')' | operand )
//! OF      := N ' of:' | N,N,N ' of:'         N: [-]digits[%], or a $MACRO$
//! operand := HOST [',' SERVICE]
//! ```
//! `HOST` is a host name, `*` (every host), empty (the rule's own host), `g:hostgroup`,
//! `r:regex`, `t:template` or `l:label`; `SERVICE` a description, `*`, `g:servicegroup`,
//! `r:regex`, `t:template` or `l:label`. This module only reads the syntax; the operands are
//! looked up by the expansion pass.

/// One operand, with its byte range in the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand<'a> {
    pub text: &'a str,
    pub host: &'a str,
    pub service: Option<&'a str>,
}

/// What makes a rule unreadable, with the text it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError<'a> {
    pub message: String,
    pub at: &'a str,
}

enum Token<'a> {
    Op(&'a str),
    Text(&'a str),
}

fn tokens(rule: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in rule.char_indices() {
        if matches!(c, '&' | '|' | '!' | '(' | ')') {
            let text = rule[start..i].trim();
            if !text.is_empty() {
                out.push(Token::Text(text));
            }
            out.push(Token::Op(&rule[i..i + 1]));
            start = i + 1;
        }
    }
    let text = rule[start..].trim();
    if !text.is_empty() {
        out.push(Token::Text(text));
    }
    out
}

/// Whether `s` holds a `$MACRO$` (upper-case letters, digits, `_` and `:` between two `$`).
pub fn has_macro(s: &str) -> bool {
    s.split('$')
        .skip(1)
        .step_by(2)
        .zip(s.split('$').skip(2))
        .any(|(inner, _)| {
            !inner.is_empty()
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b':')
        })
}

/// `N`, `-N`, `N%` or a macro.
fn is_count(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with('$') && s.ends_with('$') && s.len() > 1 {
        return true;
    }
    let s = s.strip_prefix('-').unwrap_or(s);
    let s = s.strip_suffix('%').unwrap_or(s);
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The operands of a rule, in order, or the first syntax error.
pub fn parse(rule: &str) -> Result<Vec<Operand<'_>>, SyntaxError<'_>> {
    let mut operands = Vec::new();
    let mut depth = 0usize;
    let mut want_operand = true;
    let mut last: &str = rule;
    for t in tokens(rule) {
        match t {
            Token::Op(op) => {
                last = op;
                match (op, want_operand) {
                    ("!", true) => {}
                    ("(", true) => depth += 1,
                    (")", false) if depth > 0 => depth -= 1,
                    (")", false) => {
                        return Err(SyntaxError {
                            message: "`)` without a matching `(`".into(),
                            at: op,
                        })
                    }
                    ("&" | "|", false) => want_operand = true,
                    (_, true) => {
                        return Err(SyntaxError {
                            message: format!("`{op}` where a host or `(` was expected"),
                            at: op,
                        })
                    }
                    (_, false) => {
                        return Err(SyntaxError {
                            message: format!("`{op}` after an operand; expected `&` or `|`"),
                            at: op,
                        })
                    }
                }
            }
            Token::Text(text) => {
                last = text;
                if !want_operand {
                    return Err(SyntaxError {
                        message: format!("`{text}` follows an operand; expected `&` or `|`"),
                        at: text,
                    });
                }
                let mut rest = text;
                if let Some(i) = text.find("of:") {
                    let counts = &text[..i];
                    let n = counts.split(',').count();
                    if !(n == 1 || n == 3) || !counts.split(',').all(is_count) {
                        return Err(SyntaxError {
                            message: format!(
                                "`{}of:` is not `N of:` or `N,N,N of:` (N a number, maybe negative or a percentage)",
                                counts
                            ),
                            at: text,
                        });
                    }
                    rest = text[i + 3..].trim_start();
                    if rest.is_empty() {
                        continue; // the operand is a parenthesised rule
                    }
                }
                let (host, service) = match rest.split_once(',') {
                    Some((h, s)) => (h.trim(), Some(s.trim())),
                    None => (rest.trim(), None),
                };
                if host.is_empty() && service.is_none_or(str::is_empty) {
                    return Err(SyntaxError {
                        message: format!("`{rest}` names no host and no service"),
                        at: rest,
                    });
                }
                if service == Some("") {
                    return Err(SyntaxError {
                        message: format!("`{rest}` has a comma but no service after it"),
                        at: rest,
                    });
                }
                operands.push(Operand {
                    text: rest,
                    host,
                    service,
                });
                want_operand = false;
            }
        }
    }
    if want_operand {
        return Err(SyntaxError {
            message: if operands.is_empty() && depth == 0 {
                "the rule is empty".into()
            } else {
                "the rule ends where an operand was expected".into()
            },
            at: last,
        });
    }
    if depth > 0 {
        return Err(SyntaxError {
            message: format!("{depth} `(` not closed"),
            at: last,
        });
    }
    Ok(operands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(rule: &str) -> Vec<(String, Option<String>)> {
        parse(rule)
            .unwrap()
            .into_iter()
            .map(|o| (o.host.to_string(), o.service.map(str::to_string)))
            .collect()
    }

    #[test]
    fn operands_of_the_forms_admins_write() {
        assert_eq!(
            ops("(test_host_0,db1| (test_host_0,db2 & (h,lvs1|h,lvs2) ) ) & test_router_0"),
            [
                ("test_host_0".into(), Some("db1".into())),
                ("test_host_0".into(), Some("db2".into())),
                ("h".into(), Some("lvs1".into())),
                ("h".into(), Some("lvs2".into())),
                ("test_router_0".into(), None),
            ]
        );
        assert_eq!(ops("2,1,1 of: a | b").len(), 2);
        assert_eq!(ops("-50% of: a,s1|a,s2").len(), 2);
        assert_eq!(ops("$_HOSTXOF$ of: a,s1 & b,s2").len(), 2);
        assert_eq!(ops("1 of: (a & b) | c").len(), 3);
        assert_eq!(ops(",r:srv[12]"), [("".into(), Some("r:srv[12]".into()))]);
        assert_eq!(ops("a,db1&!a,db2").len(), 2);
        assert_eq!(ops("srv-webserver, Https")[0].1.as_deref(), Some("Https"));
        assert!(has_macro("$HOSTNAME$,HTTP"));
        assert!(has_macro("x,$_HOSTSVC$"));
        assert!(!has_macro("r:^db[0-9]+$,MySQL"));
        assert!(!has_macro("r:^a$|^b$"));
    }

    proptest::proptest! {
        /// Any text, operators and multi-byte characters included, parses or is refused;
        /// operands are always pieces of the rule.
        #[test]
        fn never_panics(rule in "[a-z0-9,:&|!() $%é-]{0,40}") {
            if let Ok(ops) = parse(&rule) {
                for o in ops {
                    proptest::prop_assert!(rule.contains(o.text));
                }
            }
            let _ = has_macro(&rule);
        }
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            "a &",
            "& a",
            "(a",
            "a)",
            "a (b)",
            "a,",
            "x of: a",
            "1,2 of: a",
            "a & & b",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
