//! Payload index schemas (`field_schema` of `PUT /collections/{c}/index`, spec §5).

use serde_json::Value;

use crate::error::{Error, Result};

/// The kind of a payload index. Index options Qdrant accepts (`on_disk`, `tokenizer`, …) are
/// validated and then ignored: every index kind has one behaviour here, and filters mean the
/// same thing with or without an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldSchema {
    Keyword,
    Integer,
    Float,
    Bool,
    Datetime,
    Uuid,
    Geo,
    Text,
}

impl FieldSchema {
    /// Every schema, in Qdrant's documentation order.
    pub const ALL: [FieldSchema; 8] = [
        FieldSchema::Keyword,
        FieldSchema::Integer,
        FieldSchema::Float,
        FieldSchema::Geo,
        FieldSchema::Text,
        FieldSchema::Bool,
        FieldSchema::Datetime,
        FieldSchema::Uuid,
    ];

    /// The Qdrant type string (`"keyword"`, `"integer"`, …).
    pub fn name(self) -> &'static str {
        match self {
            FieldSchema::Keyword => "keyword",
            FieldSchema::Integer => "integer",
            FieldSchema::Float => "float",
            FieldSchema::Bool => "bool",
            FieldSchema::Datetime => "datetime",
            FieldSchema::Uuid => "uuid",
            FieldSchema::Geo => "geo",
            FieldSchema::Text => "text",
        }
    }

    /// The schema with this type string.
    pub fn from_name(name: &str) -> Option<FieldSchema> {
        FieldSchema::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Parses `field_schema`: a type string, or an object with `type` and that type's options.
    pub fn from_json(value: &Value) -> Result<FieldSchema> {
        let (type_value, options) = match value {
            Value::String(_) => (value, None),
            Value::Object(obj) => {
                let t = obj
                    .get("type")
                    .ok_or_else(|| Error::invalid("field_schema object needs a \"type\""))?;
                (t, Some(obj))
            }
            other => {
                return Err(Error::invalid(format!(
                    "field_schema must be a type name or an object with \"type\", got {other}"
                )))
            }
        };
        let name = type_value.as_str().ok_or_else(|| {
            Error::invalid(format!(
                "field_schema type must be a string, got {type_value}"
            ))
        })?;
        let schema = FieldSchema::from_name(name).ok_or_else(|| {
            let known: Vec<_> = FieldSchema::ALL.iter().map(|s| s.name()).collect();
            Error::invalid(format!(
                "unknown payload index type {name:?}; expected one of {}",
                known.join(", ")
            ))
        })?;
        for (option, value) in options.into_iter().flatten() {
            if option != "type" && !schema.options().contains(&option.as_str()) {
                return Err(Error::invalid(format!(
                    "unknown option {option:?} for a {name} payload index"
                )));
            }
            if !option_value_ok(option, value) {
                return Err(Error::invalid(format!(
                    "option {option:?} of a {name} payload index has an invalid value {value}"
                )));
            }
        }
        Ok(schema)
    }

    /// The options Qdrant accepts for this type (spec §5).
    fn options(self) -> &'static [&'static str] {
        const COMMON: [&str; 3] = ["on_disk", "memory", "enable_hnsw"];
        match self {
            FieldSchema::Keyword => &[
                "is_tenant",
                "on_disk",
                "memory",
                "enable_hnsw",
                "prefix",
                "nested",
            ],
            FieldSchema::Integer => &[
                "lookup",
                "range",
                "is_principal",
                "on_disk",
                "memory",
                "enable_hnsw",
            ],
            FieldSchema::Float | FieldSchema::Datetime => {
                &["is_principal", "on_disk", "memory", "enable_hnsw"]
            }
            FieldSchema::Geo | FieldSchema::Bool => &COMMON,
            FieldSchema::Uuid => &["is_tenant", "on_disk", "memory", "enable_hnsw"],
            FieldSchema::Text => &[
                "tokenizer",
                "min_token_len",
                "max_token_len",
                "lowercase",
                "ascii_folding",
                "phrase_matching",
                "stopwords",
                "stemmer",
                "on_disk",
                "memory",
                "enable_hnsw",
                "scoring",
                "nested",
            ],
        }
    }
}

/// Type checks of index options (values are otherwise ignored).
fn option_value_ok(option: &str, value: &Value) -> bool {
    match option {
        "type" => true,
        "tokenizer" => matches!(
            value.as_str(),
            Some("prefix" | "whitespace" | "word" | "multilingual")
        ),
        "min_token_len" | "max_token_len" => value.is_null() || value.as_u64().is_some(),
        "memory" => value.is_null() || matches!(value.as_str(), Some("cold" | "cached" | "pinned")),
        "stopwords" | "stemmer" | "scoring" => true,
        _ => value.is_null() || value.is_boolean(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_strings_and_objects() {
        for s in FieldSchema::ALL {
            assert_eq!(FieldSchema::from_json(&json!(s.name())).expect("name"), s);
            assert_eq!(
                FieldSchema::from_json(&json!({"type": s.name()})).expect("object"),
                s
            );
        }
        let text = json!({"type": "text", "tokenizer": "word", "min_token_len": 2,
                          "max_token_len": 20, "lowercase": true});
        assert_eq!(
            FieldSchema::from_json(&text).expect("text"),
            FieldSchema::Text
        );
        let int = json!({"type": "integer", "lookup": true, "range": true, "is_principal": true});
        assert_eq!(
            FieldSchema::from_json(&int).expect("int"),
            FieldSchema::Integer
        );
    }

    #[test]
    fn rejects_unknown_types_and_options() {
        for bad in [
            json!("vector"),
            json!(3),
            json!({"tokenizer": "word"}),
            json!({"type": 1}),
            json!({"type": "keyword", "tokenizer": "word"}),
            json!({"type": "bool", "is_tenant": true}),
        ] {
            let err = FieldSchema::from_json(&bad).expect_err("must fail");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
