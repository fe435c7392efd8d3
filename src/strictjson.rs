//! JSON parsing that refuses duplicate object keys. serde_json keeps the last of two
//! equal keys silently; for a file clawvault rewrites, that would drop the first one
//! (and whatever it held) without a word.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A `Value` whose objects had no duplicate keys.
pub struct Strict(pub Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(Strict(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // With arbitrary_precision, numbers arrive as a one-entry map with a private
        // key; hand that case back to serde_json's own Value.
        let mut m = Map::new();
        let mut seen = HashSet::new();
        while let Some(k) = map.next_key::<String>()? {
            if k == "$serde_json::private::Number" {
                let n: serde_json::Number = map.next_value::<NumberToken>()?.0;
                return Ok(Value::Number(n));
            }
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom("duplicate key"));
            }
            let Strict(v) = map.next_value()?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

/// The string form serde_json hands over for arbitrary-precision numbers.
struct NumberToken(serde_json::Number);

impl<'de> Deserialize<'de> for NumberToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<serde_json::Number>()
            .map(NumberToken)
            .map_err(|_| de::Error::custom("bad number"))
    }
}

/// Parse, refusing duplicate keys. Errors carry serde_json's line and column.
pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_with_position() {
        let e = from_slice(b"{\n \"a\": 1,\n \"a\": 2\n}").unwrap_err();
        assert!(e.to_string().contains("duplicate key"), "{e}");
        assert_eq!(e.line(), 3);
        assert!(from_slice(br#"{"a":{"b":1},"c":{"b":2}}"#).is_ok());
        assert!(from_slice(br#"[{"x":1,"x":1}]"#).is_err());
    }

    #[test]
    fn numbers_keep_their_text() {
        let v = from_slice(br#"{"n": 2.50, "big": 123456789012345678901234567890}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"n":2.50,"big":123456789012345678901234567890}"#
        );
    }
}
