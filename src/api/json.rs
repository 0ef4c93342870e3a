//! JSON to `google.protobuf.Struct`, for object images in the change log.

use prost_types::{ListValue, Struct, Value, value::Kind};
use serde_json::Value as Json;

/// Keys never shown outside the store, at any depth of an image.
const SECRET_KEYS: &[&str] = &["secret_hash"];

/// An object image as a `Struct`, without secret keys. An image that is not a
/// JSON object (never written by rbacd) is wrapped as `{"value": ...}`.
pub fn image(json: &Json) -> Struct {
    match json {
        Json::Object(map) => object(map),
        other => Struct {
            fields: [("value".to_owned(), value(other))].into(),
        },
    }
}

fn object(map: &serde_json::Map<String, Json>) -> Struct {
    Struct {
        fields: map
            .iter()
            .filter(|(key, _)| !SECRET_KEYS.contains(&key.as_str()))
            .map(|(key, v)| (key.clone(), value(v)))
            .collect(),
    }
}

fn value(json: &Json) -> Value {
    let kind = match json {
        Json::Null => Kind::NullValue(prost_types::NullValue::NullValue.into()),
        Json::Bool(b) => Kind::BoolValue(*b),
        // Struct numbers are doubles; rbacd's numbers (microsecond times) fit exactly.
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(value).collect(),
        }),
        Json::Object(map) => Kind::StructValue(object(map)),
    };
    Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_every_json_kind_and_strips_secrets_at_any_depth() {
        let json = serde_json::json!({
            "id": "k1",
            "secret_hash": "abc",
            "created_at": 1_763_900_000_000_000_i64,
            "revoked": null,
            "ok": true,
            "tags": ["a", {"secret_hash": "x", "n": 1}],
        });
        let image = image(&json);
        assert!(!image.fields.contains_key("secret_hash"));
        assert_eq!(
            image.fields["created_at"].kind,
            Some(Kind::NumberValue(1_763_900_000_000_000.0))
        );
        assert_eq!(image.fields["ok"].kind, Some(Kind::BoolValue(true)));
        assert!(matches!(
            image.fields["revoked"].kind,
            Some(Kind::NullValue(_))
        ));
        let Some(Kind::ListValue(tags)) = &image.fields["tags"].kind else {
            panic!("tags is a list");
        };
        let Some(Kind::StructValue(nested)) = &tags.values[1].kind else {
            panic!("a nested object");
        };
        assert_eq!(nested.fields.keys().collect::<Vec<_>>(), ["n"]);
    }

    #[test]
    fn a_scalar_image_is_wrapped() {
        let image = image(&Json::from("x"));
        assert_eq!(
            image.fields["value"].kind,
            Some(Kind::StringValue("x".into()))
        );
    }
}
