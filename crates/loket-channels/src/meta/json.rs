//! A small reader over `serde_json::Value` that remembers where it is, so a webhook body that
//! is not the documented shape is refused with a Dutch message naming the exact field
//! (`‘entry[0].changes[0].value.messages[1].id’ ontbreekt`).

use crate::adapter::ChannelError;
use serde_json::Value;

#[derive(Clone)]
pub(super) struct Node<'a> {
    pub v: &'a Value,
    pub path: String,
}

fn bad(msg: String) -> ChannelError {
    ChannelError::malformed(format!("webhookbericht van Meta niet leesbaar: {msg}"))
}

impl<'a> Node<'a> {
    pub fn root(v: &'a Value) -> Self {
        Self {
            v,
            path: String::new(),
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The field's path in quotes, or "de body" for the root.
    fn shown(&self) -> String {
        if self.path.is_empty() {
            "de body".to_string()
        } else {
            format!("‘{}’", self.path)
        }
    }

    /// The field, or `None` when it is absent or `null`.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        match self.v.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(Node {
                v,
                path: self.child_path(key),
            }),
        }
    }

    /// The field, which must be there.
    pub fn req(&self, key: &str) -> Result<Node<'a>, ChannelError> {
        if !self.v.is_object() {
            return Err(bad(format!("{} is geen JSON-object", self.shown())));
        }
        self.get(key)
            .ok_or_else(|| bad(format!("‘{}’ ontbreekt", self.child_path(key))))
    }

    pub fn str(&self) -> Result<&'a str, ChannelError> {
        self.v
            .as_str()
            .ok_or_else(|| bad(format!("{} is geen tekst", self.shown())))
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, ChannelError> {
        self.req(key)?.str()
    }

    /// An optional text field: absent is fine, another type is not.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ChannelError> {
        self.get(key).map(|n| n.str()).transpose()
    }

    /// An optional text field, ignoring any other type (for fields we only show, never rely on).
    pub fn lenient_str(&self, key: &str) -> Option<&'a str> {
        self.v.get(key).and_then(Value::as_str)
    }

    pub fn array(&self) -> Result<Vec<Node<'a>>, ChannelError> {
        let items = self
            .v
            .as_array()
            .ok_or_else(|| bad(format!("{} is geen lijst", self.shown())))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| Node {
                v,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    pub fn req_array(&self, key: &str) -> Result<Vec<Node<'a>>, ChannelError> {
        self.req(key)?.array()
    }

    /// An optional list: absent means empty, another type is an error.
    pub fn opt_array(&self, key: &str) -> Result<Vec<Node<'a>>, ChannelError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(n) => n.array(),
        }
    }

    /// A number, also accepted as a numeric string (WhatsApp sends timestamps as strings).
    pub fn f64(&self) -> Result<f64, ChannelError> {
        let n = match self.v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        n.filter(|n| n.is_finite())
            .ok_or_else(|| bad(format!("{} is geen getal", self.shown())))
    }

    /// An integer, also accepted as a numeric string.
    pub fn i64(&self) -> Result<i64, ChannelError> {
        let n = match self.v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        n.ok_or_else(|| bad(format!("{} is geen geheel getal", self.shown())))
    }

    /// A boolean flag; absent or another type counts as false.
    pub fn flag(&self, key: &str) -> bool {
        self.v.get(key).and_then(Value::as_bool).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_path() {
        let v = json!({"entry": [{"changes": [{"value": {"messages": [{"id": 5}]}}]}]});
        let root = Node::root(&v);
        let entry = &root.req_array("entry").unwrap()[0];
        let change = &entry.req_array("changes").unwrap()[0];
        let msg = &change.req("value").unwrap().req_array("messages").unwrap()[0];
        let e = msg.req_str("id").unwrap_err();
        assert!(
            e.message
                .contains("‘entry[0].changes[0].value.messages[0].id’ is geen tekst"),
            "{}",
            e.message
        );
        let e = msg.req_str("from").unwrap_err();
        assert!(e.message.contains("messages[0].from’ ontbreekt"));
    }

    #[test]
    fn numbers_from_strings() {
        let v = json!({"t": "1749416383", "f": 52.09, "s": "x"});
        let root = Node::root(&v);
        assert_eq!(root.req("t").unwrap().i64().unwrap(), 1_749_416_383);
        assert_eq!(root.req("f").unwrap().f64().unwrap(), 52.09);
        assert!(root.req("s").unwrap().i64().is_err());
    }
}
