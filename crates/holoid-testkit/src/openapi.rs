//! Holds the service's answers to its `/openapi.json`: the route and status of every answer
//! must be documented, and a JSON answer must fit the documented schema exactly — every field
//! it carries documented with its type, every required one present. The JSON Schema subset
//! the document uses: `$ref`, `allOf`, `type` (one or a list), `enum`, `properties`,
//! `required`, `items`; an object schema that lists no properties is free-form.

use serde_json::Value;

/// The service's OpenAPI document.
pub fn document() -> Value {
    serde_json::from_str(holoid_service::api::OPENAPI).expect("openapi.json is JSON")
}

/// The documented path template (`/v1/copies/{id}`) that `uri` (query ignored) falls under.
pub fn template_of<'d>(doc: &'d Value, uri: &str) -> Option<&'d str> {
    let path = uri.split('?').next().unwrap_or(uri);
    let parts: Vec<&str> = path.split('/').collect();
    doc["paths"].as_object()?.keys().map(String::as_str).find(|t| {
        let tp: Vec<&str> = t.split('/').collect();
        tp.len() == parts.len()
            && tp
                .iter()
                .zip(&parts)
                .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}') && !b.is_empty()))
    })
}

/// Checks an answer against the document: `Err` names what does not fit.
pub fn check_answer(
    doc: &Value,
    method: &str,
    uri: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<(), String> {
    let Some(template) = template_of(doc, uri) else {
        // The router's fallback: an undocumented path answers the documented error shape.
        if status == 404 {
            return fits_json(doc, &reference("Error"), body, "404 body");
        }
        return Err(format!(
            "{method} {uri} answered {status} but its path is not documented"
        ));
    };
    let op = &doc["paths"][template][method.to_lowercase()];
    if !op.is_object() {
        return Err(format!("{} {template} is not documented", method.to_uppercase()));
    }
    let mut answer = &op["responses"][status.to_string()];
    if answer.is_null() {
        return Err(format!(
            "{} {template} answered {status}, which the document does not list",
            method.to_uppercase()
        ));
    }
    if let Some(r) = answer["$ref"].as_str() {
        answer = resolve(doc, r);
    }
    let schema = &answer["content"]["application/json"]["schema"];
    if content_type.starts_with("application/json") {
        if schema.is_null() {
            return Err(format!(
                "{method} {template} {status}: JSON answer with no documented schema"
            ));
        }
        fits_json(doc, schema, body, &format!("{method} {template} {status}"))
    } else if !schema.is_null() {
        Err(format!(
            "{method} {template} {status}: documented as JSON but sent {content_type:?}"
        ))
    } else {
        Ok(())
    }
}

fn reference(name: &str) -> Value {
    serde_json::json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn fits_json(doc: &Value, schema: &Value, body: &[u8], what: &str) -> Result<(), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("{what}: not JSON ({e})"))?;
    fits(doc, schema, &value, "$").map_err(|e| format!("{what}: {e}"))
}

/// `#/components/...` in the document.
pub fn resolve<'d>(doc: &'d Value, r: &str) -> &'d Value {
    let mut at = doc;
    for part in r.trim_start_matches("#/").split('/') {
        at = &at[part];
    }
    assert!(!at.is_null(), "{r} is not in the document");
    at
}

/// A schema with `$ref` followed and `allOf` merged into one object schema: (types, enum,
/// properties, required, items).
struct Flat<'d> {
    types: Vec<&'d str>,
    values: Option<&'d Vec<Value>>,
    properties: serde_json::Map<String, Value>,
    /// Whether any part lists properties (an object schema without any is free-form).
    closed: bool,
    required: Vec<&'d str>,
    items: Option<&'d Value>,
    /// An array's leading elements' own schemas (JSON Schema 2020-12 `prefixItems`).
    prefix: Option<&'d Vec<Value>>,
    /// An array's least and most elements.
    counts: (Option<u64>, Option<u64>),
}

fn flatten<'d>(doc: &'d Value, schema: &'d Value) -> Flat<'d> {
    if let Some(r) = schema["$ref"].as_str() {
        return flatten(doc, resolve(doc, r));
    }
    let mut flat = Flat {
        types: match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        },
        values: schema["enum"].as_array(),
        properties: schema["properties"].as_object().cloned().unwrap_or_default(),
        closed: schema["properties"].is_object(),
        required: schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
        items: schema.get("items"),
        prefix: schema["prefixItems"].as_array(),
        counts: (schema["minItems"].as_u64(), schema["maxItems"].as_u64()),
    };
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let p = flatten(doc, part);
        if flat.types.is_empty() {
            flat.types = p.types;
        }
        flat.properties.extend(p.properties);
        flat.closed |= p.closed;
        flat.required.extend(p.required);
    }
    flat
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether `value` fits `schema`: `Err` names the JSON path and what is wrong.
pub fn fits(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let s = flatten(doc, schema);
    let t = type_of(value);
    let type_ok =
        s.types.is_empty() || s.types.contains(&t) || (t == "integer" && s.types.contains(&"number"));
    if !type_ok {
        return Err(format!("{at} is {t}, documented as {:?}", s.types));
    }
    if let Some(values) = s.values
        && !values.contains(value)
    {
        return Err(format!("{at} = {value} is not one of the documented {values:?}"));
    }
    match value {
        Value::Object(fields) => {
            for (k, v) in fields.iter().filter(|_| s.closed) {
                let sub = s
                    .properties
                    .get(k)
                    .ok_or_else(|| format!("{at}.{k} is not documented"))?;
                fits(doc, sub, v, &format!("{at}.{k}"))?;
            }
            for r in &s.required {
                if !fields.contains_key(*r) {
                    return Err(format!("{at}.{r} is documented as required but missing"));
                }
            }
        }
        Value::Array(elements) => {
            let n = elements.len() as u64;
            if s.counts.0.is_some_and(|min| n < min) || s.counts.1.is_some_and(|max| n > max) {
                return Err(format!("{at} has {n} elements, documented as {:?}", s.counts));
            }
            for (i, e) in elements.iter().enumerate() {
                let own = s.prefix.and_then(|p| p.get(i)).or(s.items);
                if let Some(schema) = own {
                    fits(doc, schema, e, &format!("{at}[{i}]"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The documented properties of a schema at every object level that `value` reaches: `Err`
/// when the document lists a property that `value` (a full example of the type, every
/// optional field filled) does not have — a field the type lost but the document kept.
pub fn no_stale_fields(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let s = flatten(doc, schema);
    match value {
        Value::Object(fields) => {
            for (k, sub) in &s.properties {
                let v = fields
                    .get(k)
                    .ok_or_else(|| format!("{at}.{k} is documented but the type has no such field"))?;
                no_stale_fields(doc, sub, v, &format!("{at}.{k}"))?;
            }
        }
        Value::Array(elements) => {
            if let (Some(items), Some(first)) = (s.items, elements.first()) {
                no_stale_fields(doc, items, first, &format!("{at}[0]"))?;
            }
        }
        _ => {}
    }
    Ok(())
}
