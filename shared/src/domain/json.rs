//! JSON text as clients send it, read strictly: a key given twice in one object is refused
//! rather than read as its last value (serde_json keeps the last one silently, and another
//! parser on the way might keep the first), nesting is bounded, and raw text is compacted
//! without touching a string or a number.

use std::collections::HashSet;

use super::validation::field_path;

/// Why a duplicate key is refused, for the `errors[].message` naming it.
pub const DUPLICATE_KEY: &str = "is given twice in one object; a key may appear once";

/// serde_json's own nesting limit, kept for text it only skims (raw values).
pub const MAX_DEPTH: usize = 128;

/// What a strict reading of well-formed JSON text refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strictness {
    /// The path of the first key an object repeats (`data.user.id`, `events[1].type`).
    DuplicateKey(String),
    /// Objects and arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A string whose escapes name no character (a lone surrogate, `\ud800`), which
    /// serde_json skims past in raw text but no receiver could decode.
    BadString(String),
    /// A number beyond `f64`'s range (`1e999`): kept as text it would reach receivers that
    /// read it as infinity or refuse it.
    NumberOutOfRange(String),
}

/// One open object or array, and where in it the scan is.
enum Frame {
    Object {
        keys: HashSet<String>,
        /// The key whose value is being read; a key comes next when `None`.
        key: Option<String>,
    },
    Array {
        index: usize,
    },
}

/// Checks `text`, which serde_json has already accepted as JSON, in one pass: every key
/// unique within its object (compared as decoded, so `"a"` and `"\u0061"` are one key), no
/// deeper than [`MAX_DEPTH`], every string decodable and every number within `f64`'s range
/// (integers beyond 64 bits and decimals of any length pass, to be kept as written).
pub fn check_strict(text: &str) -> Result<(), Strictness> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i);
                let string = decode(&text[i..end])?;
                if let Some(Frame::Object {
                    keys,
                    key: key @ None,
                }) = stack.last_mut()
                {
                    if !keys.insert(string.clone()) {
                        let at = field_path(&path(&stack), &string);
                        return Err(Strictness::DuplicateKey(at));
                    }
                    *key = Some(string);
                }
                i = end;
                continue;
            }
            b'{' | b'[' if stack.len() == MAX_DEPTH => return Err(Strictness::TooDeep),
            b'{' => stack.push(Frame::Object {
                keys: HashSet::new(),
                key: None,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b'-' | b'0'..=b'9' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .map_or(bytes.len(), |n| i + n);
                let number = &text[i..end];
                if !number.parse::<f64>().is_ok_and(f64::is_finite) {
                    return Err(Strictness::NumberOutOfRange(number.to_owned()));
                }
                i = end;
                continue;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { key, .. }) => *key = None,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The index just past the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A string as it means, escapes decoded.
fn decode(quoted: &str) -> Result<String, Strictness> {
    if !quoted.contains('\\') {
        let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'));
        return Ok(inner.unwrap_or(quoted).to_owned());
    }
    serde_json::from_str::<String>(quoted).map_err(|e| Strictness::BadString(e.to_string()))
}

/// The path of the value the innermost frame is in (`events[1].data`).
fn path(stack: &[Frame]) -> String {
    let mut path = String::new();
    let enclosing = stack.len().saturating_sub(1);
    for frame in &stack[..enclosing] {
        match frame {
            Frame::Object { key: Some(key), .. } => path = field_path(&path, key),
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => path = format!("{path}[{index}]"),
        }
    }
    path
}

/// `text` without the whitespace between tokens; strings, numbers and key order untouched.
pub fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate(text: &str) -> Option<String> {
        match check_strict(text) {
            Ok(()) => None,
            Err(Strictness::DuplicateKey(path)) => Some(path),
            Err(other) => Some(format!("{other:?}")),
        }
    }

    #[test]
    fn a_repeated_key_is_found_at_any_depth_with_its_path() {
        assert_eq!(duplicate(r#"{"a":1,"b":{"c":[1,{"d":2}]}}"#), None);
        assert_eq!(duplicate(r#"{"type":"a.b","type":"c.d"}"#).unwrap(), "type");
        assert_eq!(
            duplicate(r#"{"data":{"user":{"id":1,"x":{},"id":2}}}"#).unwrap(),
            "data.user.id"
        );
        assert_eq!(
            duplicate(r#"{"events":[{"a":1},{"data":{"k":[{"z":1,"z":1}]}}]}"#).unwrap(),
            "events[1].data.k[0].z"
        );
        assert_eq!(duplicate(r#"{"a":1,"\u0061":2}"#).unwrap(), "a");
        assert_eq!(duplicate(r#"{"a\"b":1, "a\"b" : 2}"#).unwrap(), "a\"b");
        // Keys repeated in sibling objects, or as string values, are no repeat.
        assert_eq!(
            duplicate(r#"[{"a":1e300},{"a":18446744073709551616}]"#),
            None
        );
        assert_eq!(
            duplicate(r#"{"a":"a","b":["a","a"],"c":{"a":{"a":1}}}"#),
            None
        );
        assert_eq!(duplicate(r#"{"a":"x\\","a":1}"#).unwrap(), "a");
    }

    #[test]
    fn an_escape_that_names_no_character_is_refused() {
        for text in [r#"{"x":"\ud800"}"#, r#"{"\udc00":1}"#, r#"["a\ud800b"]"#] {
            assert!(
                matches!(check_strict(text), Err(Strictness::BadString(_))),
                "{text}"
            );
        }
        assert_eq!(check_strict(r#"{"x":"\ud83d\ude00 \u00e9 \n"}"#), Ok(()));
    }

    #[test]
    fn a_number_beyond_f64_is_refused_and_a_long_one_is_not() {
        for text in [
            "[1e999]",
            r#"{"x":-1E400}"#,
            &format!("[1{}]", "0".repeat(400)),
        ] {
            assert!(
                matches!(check_strict(text), Err(Strictness::NumberOutOfRange(_))),
                "{text}"
            );
        }
        let long = r#"[18446744073709551616,-9223372036854775809,0.1000000000000000055511151231257827,1e-999,-0]"#;
        assert_eq!(check_strict(long), Ok(()));
    }

    #[test]
    fn nesting_is_bounded_like_serde_json() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(check_strict(&deep(MAX_DEPTH)), Ok(()));
        assert_eq!(check_strict(&deep(MAX_DEPTH + 1)), Err(Strictness::TooDeep));
        assert_eq!(check_strict(&deep(100_000)), Err(Strictness::TooDeep));
    }

    #[test]
    fn compact_drops_only_the_whitespace_between_tokens() {
        let text = "{ \"a b\" : [ 1 ,\n\t2.50 ] , \"c\\\" d\" : \" x \\\\\" }";
        assert_eq!(compact(text), r#"{"a b":[1,2.50],"c\" d":" x \\"}"#);
    }
}
