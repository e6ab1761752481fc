//! The one place pix-ingest reads the process environment.
//!
//! `VarSource` is the environment in production and a map in tests, so config loading is a pure
//! function of (file text, variables). `${VAR}` / `${VAR:-default}` are interpolated in the raw
//! YAML text before parsing (as Vector does), which keeps line numbers intact for error messages;
//! `$${` escapes a literal `${`. A value that contains a line break is refused, so a variable can
//! never inject YAML structure over several lines.

use std::collections::HashMap;

/// Where `${VAR}` values and `PIX_INGEST_*` overrides come from.
pub trait VarSource {
    /// The value of `name`, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl VarSource for ProcessEnv {
    #[allow(clippy::disallowed_methods)] // the one sanctioned environment read
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The environment as entries sent to the admin API see it: only the variables named in
/// `admin.allowed_env`; every other one reads as unset. Anyone holding the admin token could
/// otherwise send `${ANY_SECRET}` in a sink's URL and have the process send it away.
#[derive(Debug, Clone, Default)]
pub struct AllowedEnv<V> {
    inner: V,
    allowed: Vec<String>,
}

impl<V: VarSource> AllowedEnv<V> {
    /// `inner` restricted to `allowed`.
    pub fn new(inner: V, allowed: Vec<String>) -> Self {
        Self { inner, allowed }
    }

    /// Whether `name` may be read.
    pub fn allows(&self, name: &str) -> bool {
        self.allowed.iter().any(|a| a == name)
    }
}

impl<V: VarSource> VarSource for AllowedEnv<V> {
    fn get(&self, name: &str) -> Option<String> {
        if self.allows(name) { self.inner.get(name) } else { None }
    }
}

/// Every variable `text` references (`${NAME}` or `${NAME:-default}`, outside whole-line
/// comments), once each, in order of first appearance, with the 1-based line of the first one.
/// No value is read.
pub fn references(text: &str) -> Vec<(String, usize)> {
    struct Recorder(std::cell::RefCell<Vec<String>>);
    impl VarSource for Recorder {
        fn get(&self, name: &str) -> Option<String> {
            self.0.borrow_mut().push(name.to_owned());
            Some(String::new())
        }
    }
    let mut out: Vec<(String, usize)> = Vec::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let rec = Recorder(std::cell::RefCell::default());
        let _ = interpolate(line, &rec);
        for name in rec.0.into_inner() {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, i + 1));
            }
        }
    }
    out
}

impl VarSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// A problem found while interpolating, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpolationError {
    /// 1-based line of the `${...}` expression.
    pub line: usize,
    /// 1-based column of the `$`.
    pub column: usize,
    /// What went wrong, naming the variable (never its value).
    pub message: String,
}

/// Replaces every `${NAME}` and `${NAME:-default}` in `text`.
pub fn interpolate(text: &str, vars: &dyn VarSource) -> Result<String, Vec<InterpolationError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') {
            // Whole-line comments are left alone: documentation may mention `${VAR}`.
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        let mut col = 1;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            col += rest[..pos].chars().count();
            let after = &rest[pos..];
            if let Some(stripped) = after.strip_prefix("$${") {
                out.push_str("${");
                rest = stripped;
                col += 3;
                continue;
            }
            if !after.starts_with("${") {
                out.push('$');
                rest = &after[1..];
                col += 1;
                continue;
            }
            let Some(end) = after.find('}') else {
                errors.push(InterpolationError {
                    line: line_no + 1,
                    column: col,
                    message: "unterminated `${`: expected `${NAME}` or `${NAME:-default}`".into(),
                });
                out.push_str(after);
                rest = "";
                break;
            };
            let expr = &after[2..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            let valid_name = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid_name {
                errors.push(InterpolationError {
                    line: line_no + 1,
                    column: col,
                    message: format!("`${{{expr}}}` is not a variable reference: expected letters, digits and _"),
                });
            } else {
                match vars.get(name).or_else(|| default.map(str::to_owned)) {
                    Some(v) if v.contains(['\n', '\r']) => errors.push(InterpolationError {
                        line: line_no + 1,
                        column: col,
                        message: format!("environment variable {name} contains a line break"),
                    }),
                    Some(v) => out.push_str(&v),
                    None => errors.push(InterpolationError {
                        line: line_no + 1,
                        column: col,
                        message: format!(
                            "environment variable {name} is not set (write ${{{name}:-default}} to give a default)"
                        ),
                    }),
                }
            }
            col += after[..=end].chars().count();
            rest = &after[end + 1..];
        }
        out.push_str(rest);
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn replaces_defaults_and_escapes() {
        let v = vars(&[("TOKEN", "s3cr3t")]);
        let out = interpolate("a: ${TOKEN}\nb: ${MISSING:-x}\nc: $${TOKEN} $5\n", &v).unwrap();
        assert_eq!(out, "a: s3cr3t\nb: x\nc: ${TOKEN} $5\n");
    }

    #[test]
    fn missing_variable_names_line_and_variable_not_value() {
        let v = vars(&[("OTHER", "value")]);
        let err = interpolate("a: 1\ntoken: \"${ADMIN_TOKEN}\"\n", &v).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].line, 2);
        assert_eq!(err[0].column, 9);
        assert!(err[0].message.contains("ADMIN_TOKEN"));
    }

    #[test]
    fn an_allow_list_hides_every_other_variable_and_references_are_listed() {
        let v = AllowedEnv::new(vars(&[("OK", "1"), ("SECRET", "s3cr3t")]), vec!["OK".into()]);
        assert_eq!((v.get("OK"), v.get("SECRET")), (Some("1".into()), None));
        let text = "# ${IN_COMMENT}\nurl: \"${A}/${B:-x}\"\nb: $${C} ${A}\n";
        assert_eq!(references(text), vec![("A".to_owned(), 2), ("B".to_owned(), 2)]);
    }

    #[test]
    fn refuses_line_breaks_and_bad_names() {
        let v = vars(&[("X", "a\nb: c")]);
        let err = interpolate("a: ${X}\nb: ${1X}\nc: ${oops\n", &v).unwrap_err();
        assert_eq!(err.len(), 3);
        assert!(err[0].message.contains("line break"));
        assert!(!err[0].message.contains("b: c"), "the value must never be echoed");
    }
}
