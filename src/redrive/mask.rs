//! The masked preview of a dead letter's bytes: its shape (JSON keys and punctuation, XML tag and
//! attribute names) with every value's letters and digits replaced by `*`, so an operator sees
//! which fields a record had without any CPF, CNPJ, key, name or account in it. A dead letter
//! is by definition a record we could not read, so nothing here relies on it being valid JSON or
//! XML: a scanner over characters, total on any input.

/// Characters of the original a preview covers.
pub const PREVIEW_CHARS: usize = 240;

/// The masked preview of `bytes` (lossy UTF-8, the first [`PREVIEW_CHARS`] characters, `…` when
/// cut).
pub fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let chars: Vec<char> = text.chars().take(PREVIEW_CHARS).collect();
    let mut out = masked(&chars);
    if text.chars().nth(PREVIEW_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Masks `chars`. Kept as they are: punctuation and white space, the name of a JSON key (a quoted
/// string followed by `:`) and of an XML tag (from `<` to the first space), when the name looks
/// like a field name (ASCII letters, `_`, `-`, `.`, `:`; digits in it masked all the same), so
/// that even a broken record whose "key" is a CPF or an e-mail shows nothing of it. Everything
/// else that is a letter or a digit becomes `*`; an unterminated string or tag masks to the end.
fn masked(chars: &[char]) -> String {
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let (mut quote, mut name_from) = (None::<char>, None::<usize>);
    for (i, &c) in chars.iter().enumerate() {
        if let Some(q) = quote {
            if c == q && chars.get(i.wrapping_sub(1)) != Some(&'\\') {
                quote = None;
                let start = name_from.take().unwrap_or(i);
                // A JSON key: the string is followed by `:`.
                if chars[i + 1..].iter().find(|c| !c.is_whitespace()) == Some(&':') {
                    show_name(&mut out, &chars[start..i]);
                }
                out.push(c);
            } else {
                out.push(star(c));
            }
            continue;
        }
        if let Some(start) = name_from
            && !is_name_char(c)
        {
            // The end of a tag name.
            name_from = None;
            show_name(&mut out, &chars[start..i]);
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                out.push(c);
                name_from = Some(i + 1);
            }
            '<' => {
                out.push(c);
                name_from = Some(i + 1);
            }
            c => out.push(star(c)),
        }
    }
    out.into_iter().collect()
}

/// A letter or digit as `*`; anything else as it is.
fn star(c: char) -> char {
    if c.is_alphanumeric() { '*' } else { c }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/' | '?' | '!')
}

/// Replaces the masked copy of `name` at the end of `out` by the name itself (digits still
/// masked), when it looks like a field name.
fn show_name(out: &mut Vec<char>, name: &[char]) {
    let looks_like_a_name = !name.is_empty() && name.len() <= 64 && name.iter().all(|&c| is_name_char(c));
    if looks_like_a_name {
        out.truncate(out.len().saturating_sub(name.len()));
        out.extend(name.iter().map(|&c| if c.is_ascii_digit() { '*' } else { c }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_stay_and_every_value_is_masked() {
        let got = preview(br#"{"payer": {"tax_id": "52998224725", "name": "Maria da Silva"}, "amount": 150.25}"#);
        assert_eq!(got, r#"{"payer": {"tax_id": "***********", "name": "***** ** *****"}, "amount": ***.**}"#);
    }

    #[test]
    fn xml_tags_stay_and_text_and_attribute_values_are_masked() {
        let got = preview(br#"<?xml version="1.0"?><Dbtr><Nm a="Jo">Maria</Nm><Id>52998224725</Id></Dbtr>"#);
        assert_eq!(got, r#"<?xml *******="*.*"?><Dbtr><Nm *="**">*****</Nm><Id>***********</Id></Dbtr>"#);
    }

    #[test]
    fn a_key_or_tag_that_is_not_a_field_name_is_masked_too() {
        assert_eq!(preview(br#"{"52998224725": 1, "a@b.com": 2}"#), r#"{"***********": *, "*@*.***": *}"#);
        assert_eq!(preview(b"<Maria Silva 52998224725"), "<Maria ***** ***********");
    }

    #[test]
    fn any_bytes_give_a_preview_without_digits_or_letters_of_values() {
        for input in [&b"\xff\xfe not utf-8 12345678901"[..], b"\"unterminated 5299822", b"", b"<<<>>>\"'\\"] {
            let got = preview(input);
            assert!(!got.chars().any(|c| c.is_ascii_digit()), "{got}");
        }
        let long = "x".repeat(PREVIEW_CHARS + 10);
        assert!(preview(long.as_bytes()).ends_with('…'));
    }
}
