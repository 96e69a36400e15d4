//! The market streams' control messages (spot `web-socket-streams.md`,
//! "Live Subscribing/Unsubscribing to streams"): `SUBSCRIBE`,
//! `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY` / `GET_PROPERTY`
//! (`combined`), with the documented error messages. The 1024-stream limit's
//! wording is the mock's own (Binance documents the limit, not the message).

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// What a control message asks of the connection.
pub(crate) enum Control {
    /// Answer at once (or after the subscribe delay when `subscribe`).
    Reply { text: String, subscribe: bool },
}

/// `{"error":{"code":…,"msg":…},"id":…}`.
pub(crate) fn error(id: &Value, code: i64, msg: &str) -> String {
    json!({"error": {"code": code, "msg": msg}, "id": id}).to_string()
}

/// Whether `name` reads as a stream name: `<lower-case symbol>@<kind>[@…]`.
fn valid_stream(name: &str) -> bool {
    let Some((symbol, kind)) = name.split_once('@') else {
        return false;
    };
    !symbol.is_empty()
        && symbol
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'!')
        && !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@')
}

/// Handles one control message against the connection's `streams`.
/// `refuse` is consulted for each `SUBSCRIBE` (an injected refusal).
pub(crate) fn handle(
    text: &str,
    streams: &mut BTreeSet<String>,
    combined: &mut bool,
    max_streams: usize,
    refuse: impl FnOnce() -> Option<(i64, String)>,
) -> Control {
    let reply = |text: String| Control::Reply {
        text,
        subscribe: false,
    };
    let Ok(msg) = serde_json::from_str::<Value>(text) else {
        return reply(error(
            &Value::Null,
            3,
            "Invalid JSON: expected value at line 1 column 1",
        ));
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    if !(id.is_u64() || id.is_null() || id.is_string()) {
        return reply(error(
            &id,
            2,
            "Invalid request: request ID must be an unsigned integer",
        ));
    }
    let Some(method) = msg.get("method").and_then(Value::as_str) else {
        return reply(error(
            &id,
            2,
            "Invalid request: missing field `method` at line 1 column 73",
        ));
    };
    let params = msg.get("params");
    let names = || -> Option<Vec<String>> {
        params?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    match method {
        "SUBSCRIBE" | "UNSUBSCRIBE" => {
            let Some(names) = names() else {
                return reply(error(
                    &id,
                    2,
                    "Invalid request: params must be a list of stream names",
                ));
            };
            if let Some(bad) = names.iter().find(|n| !valid_stream(n)) {
                return reply(error(
                    &id,
                    2,
                    &format!("Invalid request: invalid stream name `{bad}`"),
                ));
            }
            if method == "UNSUBSCRIBE" {
                names.iter().for_each(|n| {
                    streams.remove(n);
                });
                return reply(json!({"result": null, "id": id}).to_string());
            }
            if let Some((code, msg)) = refuse() {
                return Control::Reply {
                    text: error(&id, code, &msg),
                    subscribe: true,
                };
            }
            let added = names.iter().filter(|n| !streams.contains(*n)).count();
            if streams.len() + added > max_streams {
                let msg = format!(
                    "Invalid request: too many streams (at most {max_streams} per connection)"
                );
                return Control::Reply {
                    text: error(&id, 2, &msg),
                    subscribe: true,
                };
            }
            streams.extend(names);
            Control::Reply {
                text: json!({"result": null, "id": id}).to_string(),
                subscribe: true,
            }
        }
        "LIST_SUBSCRIPTIONS" => {
            reply(json!({"result": streams.iter().collect::<Vec<_>>(), "id": id}).to_string())
        }
        "SET_PROPERTY" => match params.and_then(Value::as_array).map(Vec::as_slice) {
            Some([Value::String(p), value]) if p == "combined" => match value.as_bool() {
                Some(on) => {
                    *combined = on;
                    reply(json!({"result": null, "id": id}).to_string())
                }
                None => reply(error(&id, 1, "Invalid value type: expected Boolean")),
            },
            Some([Value::String(_), _]) => reply(error(&id, 0, "Unknown property")),
            _ => reply(error(
                &id,
                2,
                "Invalid request: property name must be a string",
            )),
        },
        "GET_PROPERTY" => match params.and_then(Value::as_array).map(Vec::as_slice) {
            Some([Value::String(p)]) if p == "combined" => {
                reply(json!({"result": *combined, "id": id}).to_string())
            }
            Some([Value::String(_)]) => reply(error(&id, 0, "Unknown property")),
            _ => reply(error(
                &id,
                2,
                "Invalid request: property name must be a string",
            )),
        },
        other => reply(error(
            &id,
            2,
            &format!(
                "Invalid request: unknown variant `{other}`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 28"
            ),
        )),
    }
}

/// The streams a tick's event of `kind` goes to, among `streams`.
pub(crate) fn matching<'a>(
    streams: &'a BTreeSet<String>,
    symbol: &str,
    kind: &str,
) -> impl Iterator<Item = &'a String> {
    let prefix = format!("{symbol}@{kind}");
    streams.iter().filter(move |s| {
        s.strip_prefix(prefix.as_str()).is_some_and(|rest| {
            rest.is_empty() || (matches!(kind, "depth" | "markPrice") && rest.starts_with('@'))
        })
    })
}
