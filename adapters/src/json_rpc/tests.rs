use serde_json::{Value, json};
use wsnova_core::session::{Adapter, Inbound, RequestError, RequestId, RpcError};

use super::*;

fn deribit_like() -> JsonRpc {
    JsonRpc::new()
        .with_subscriptions(SubscriptionStyle::channel_list(
            "public/subscribe",
            "public/unsubscribe",
        ))
        .with_subscription_method("subscription")
        .with_private_prefix("user.")
}

fn notification<'a>(adapter: &JsonRpc, text: &'a str) -> (&'a str, &'a str) {
    match adapter.classify(text) {
        Inbound::Notification { channel, data } => (channel, data.get()),
        other => panic!("{text}: {other:?}"),
    }
}

fn channels(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

#[test]
fn responses_are_matched_by_id_including_null_results() {
    let adapter = JsonRpc::new();
    for (text, want) in [
        (
            r#"{"jsonrpc":"2.0","id":4,"result":{"a":[1,2]}}"#,
            r#"{"a":[1,2]}"#,
        ),
        (r#"{"jsonrpc":"2.0","id":4,"result":null}"#, "null"),
        (r#"{"id":4,"result":"0x1"}"#, r#""0x1""#),
    ] {
        match adapter.classify(text) {
            Inbound::Response {
                id,
                outcome: Ok(result),
            } => assert_eq!((id, result.get()), (RequestId(4), want)),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn error_objects_are_rejections_with_code_message_and_data() {
    let text =
        r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"bad","data":{"f":"x"}}}"#;
    match JsonRpc::new().classify(text) {
        Inbound::Response {
            id,
            outcome: Err(e),
        } => {
            assert_eq!(
                (id, e.code, e.message.as_str()),
                (RequestId(7), -32602, "bad")
            );
            assert_eq!(e.data.map(|d| d.get()), Some(r#"{"f":"x"}"#));
        }
        other => panic!("{other:?}"),
    }
    // An error wins over a (null) result; a missing message is empty.
    match JsonRpc::new().classify(r#"{"id":1,"result":null,"error":{"code":5}}"#) {
        Inbound::Response {
            outcome: Err(e), ..
        } => assert_eq!((e.code, e.message.as_str()), (5, "")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn notifications_default_to_the_method_as_channel() {
    let adapter = JsonRpc::new();
    let text = r#"{"jsonrpc":"2.0","method":"tick","params":[1,{"p":2}]}"#;
    assert_eq!(notification(&adapter, text), ("tick", r#"[1,{"p":2}]"#));
    // Without an envelope, "subscription" is just another method.
    let text = r#"{"method":"subscription","params":{"channel":"a","data":1}}"#;
    assert_eq!(notification(&adapter, text).0, "subscription");
}

#[test]
fn subscription_envelopes_carry_channel_and_data() {
    let text = r#"{"jsonrpc":"2.0","method":"subscription","params":{"data":{"p":[1, 2]},"x":[{}],"channel":"ticker.BTC"}}"#;
    assert_eq!(
        notification(&deribit_like(), text),
        ("ticker.BTC", r#"{"p":[1, 2]}"#)
    );
    let eth =
        JsonRpc::new().with_notification_envelope("eth_subscription", "subscription", "result");
    let text = r#"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xab","result":null}}"#;
    assert_eq!(notification(&eth, text), ("0xab", "null"));
    // Other methods are unaffected.
    let text = r#"{"method":"heartbeat","params":{"type":"test_request"}}"#;
    assert_eq!(
        notification(&eth, text),
        ("heartbeat", r#"{"type":"test_request"}"#)
    );
}

#[test]
fn data_is_borrowed_from_the_message() {
    let text = r#"{"method":"subscription","params":{"channel":"c","data":{"big":[1,2,3]}}}"#;
    let Inbound::Notification { channel, data } = deribit_like().classify(text) else {
        panic!()
    };
    let range = text.as_ptr() as usize..text.as_ptr() as usize + text.len();
    assert!(range.contains(&(data.get().as_ptr() as usize)));
    assert!(range.contains(&(channel.as_ptr() as usize)));
}

#[test]
fn garbage_is_other_never_a_panic() {
    let adapter = deribit_like();
    for text in [
        "",
        "   ",
        "not json",
        "[1,2]",
        r#"[{"id":1,"result":2}]"#,
        "{\"id\":1",
        r#"{"id":"str","result":1}"#,
        r#"{"id":-1,"result":1}"#,
        r#"{"id":1}"#,
        r#"{"id":1,"error":"text"}"#,
        r#"{"id":1,"error":{"message":"no code"}}"#,
        r#"{"method":"tick"}"#,
        r#"{"method":7,"params":{}}"#,
        r#"{"id":3,"method":"server_request","params":{}}"#,
        r#"{"method":"subscription","params":{"channel":"a"}}"#,
        r#"{"method":"subscription","params":{"data":1}}"#,
        r#"{"method":"subscription","params":{"channel":5,"data":1}}"#,
        r#"{"method":"subscription","params":["a",1]}"#,
        r#"{"method":"subscription","params":"a"}"#,
        r#"{"method":"subscription","params":null}"#,
        r#"{"method":"subscription","params":{"channel":"a\"b","data":1}}"#,
        "{\"method\":\"x\",\"params\":{}} trailing",
    ] {
        assert!(matches!(adapter.classify(text), Inbound::Other), "{text}");
    }
}

#[test]
fn subscribe_and_unsubscribe_encode_channel_lists() {
    let adapter = deribit_like();
    let list = channels(&["ticker.BTC", "book.\"q\""]);
    let sub = adapter.subscribe_request(&list, false).unwrap();
    assert_eq!(sub.method, "public/subscribe");
    let params: Value = serde_json::from_str(&sub.params).unwrap();
    assert_eq!(params, json!({ "channels": ["ticker.BTC", "book.\"q\""] }));
    let unsub = adapter.unsubscribe_request(&list[..1], true).unwrap();
    assert_eq!(unsub.method, "public/unsubscribe");
    assert_eq!(unsub.params, r#"{"channels":["ticker.BTC"]}"#);
    let mut out = String::new();
    adapter.encode_request(RequestId(9), &unsub.method, &unsub.params, &mut out);
    assert_eq!(
        out,
        r#"{"jsonrpc":"2.0","id":9,"method":"public/unsubscribe","params":{"channels":["ticker.BTC"]}}"#
    );
}

#[test]
fn no_subscription_style_means_no_requests() {
    let adapter = JsonRpc::new();
    assert!(
        adapter
            .subscribe_request(&channels(&["a"]), false)
            .is_none()
    );
    assert!(
        adapter
            .unsubscribe_request(&channels(&["a"]), false)
            .is_none()
    );
}

#[test]
fn confirmed_channels_are_the_requested_ones_in_the_result() {
    let adapter = deribit_like();
    let requested = channels(&["a", "b", "c"]);
    assert_eq!(
        adapter.confirmed_channels(&requested, r#"["c","a","b"]"#),
        requested
    );
    // Partial: only what was both requested and confirmed.
    assert_eq!(
        adapter.confirmed_channels(&requested, r#"["b","zzz"]"#),
        channels(&["b"])
    );
    assert_eq!(
        adapter.confirmed_channels(&channels(&["a\"b"]), r#"["a\"b"]"#),
        channels(&["a\"b"])
    );
    for malformed in [
        "",
        "{}",
        "null",
        r#""a""#,
        r#"["a",1]"#,
        r#"{"channels":["a"]}"#,
    ] {
        assert!(
            adapter.confirmed_channels(&requested, malformed).is_empty(),
            "{malformed}"
        );
    }
}

#[test]
fn private_channels_by_prefix() {
    let adapter = deribit_like();
    assert!(adapter.is_private("user.orders.BTC"));
    assert!(!adapter.is_private("ticker.user.BTC"));
    assert!(!JsonRpc::new().is_private("user.orders"));
}

#[test]
fn costs_per_method_with_a_default() {
    let adapter = JsonRpc::new()
        .with_cost("a", 5)
        .with_cost("b", 0)
        .with_cost("a", 7);
    assert_eq!(
        (adapter.cost("a"), adapter.cost("b"), adapter.cost("c")),
        (7, 0, 1)
    );
    let adapter = adapter.with_default_cost(3);
    assert_eq!((adapter.cost("a"), adapter.cost("c")), (7, 3));
}

#[test]
fn rpc_error_codes_come_from_rejections_only() {
    let rejected = RequestError::Rejected(RpcError {
        code: 10028,
        message: "too_many_requests".into(),
        data: None,
    });
    assert_eq!(rpc_error_code(&rejected), Some(10028));
    for other in [
        RequestError::Timeout,
        RequestError::ConnectionLost,
        RequestError::RateLimited,
        RequestError::Closed,
    ] {
        assert_eq!(rpc_error_code(&other), None);
    }
}
