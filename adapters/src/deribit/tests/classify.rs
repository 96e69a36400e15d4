//! Reading messages: responses, errors, notifications, heartbeats, garbage.

use wsnova_core::session::{Adapter, Inbound, RequestId};

use crate::deribit::{Deribit, ServerTimes};

#[test]
fn responses_with_timestamps_as_numbers_or_strings() {
    let adapter = Deribit::new();
    for text in [
        r#"{"jsonrpc":"2.0","id":7,"result":{"version":"1.2.26"},"usIn":1700000000000001,"usOut":1700000000000051,"usDiff":50,"testnet":true}"#,
        r#"{"jsonrpc":"2.0","id":7,"result":{"version":"1.2.26"},"usIn":"1700000000000001","usOut":"1700000000000051","usDiff":"50","testnet":false}"#,
    ] {
        match adapter.classify(text) {
            Inbound::Response {
                id,
                outcome: Ok(result),
            } => {
                assert_eq!(id, RequestId(7));
                assert_eq!(result.get(), r#"{"version":"1.2.26"}"#);
                // Borrowed from the message, not copied.
                let start = result.get().as_ptr() as usize - text.as_ptr() as usize;
                assert_eq!(&text[start..start + result.get().len()], result.get());
            }
            other => panic!("{other:?}"),
        }
        let times = ServerTimes::parse(text).unwrap();
        assert_eq!(
            (times.us_in, times.us_out, times.us_diff),
            (Some(1700000000000001), Some(1700000000000051), Some(50))
        );
    }
}

#[test]
fn a_null_result_is_a_response() {
    match Deribit::new().classify(r#"{"jsonrpc":"2.0","id":4,"result":null,"usIn":1}"#) {
        Inbound::Response {
            id,
            outcome: Ok(result),
        } => assert_eq!((id, result.get()), (RequestId(4), "null")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_carry_code_message_and_data() {
    let text = r#"{"jsonrpc":"2.0","id":9,"error":{"code":13009,"message":"invalid_token","data":{"reason":"token has expired","param":"access_token"}},"usIn":"1","usOut":"2","usDiff":"1","testnet":true}"#;
    match Deribit::new().classify(text) {
        Inbound::Response {
            id,
            outcome: Err(e),
        } => {
            assert_eq!(id, RequestId(9));
            assert_eq!((e.code, e.message.as_str()), (13009, "invalid_token"));
            assert_eq!(
                e.data.unwrap().get(),
                r#"{"reason":"token has expired","param":"access_token"}"#
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn subscription_notifications_carry_channel_and_borrowed_data() {
    let text = r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"type":"change","change_id":2,"prev_change_id":1,"bids":[["new",100.0,1.0]],"asks":[]}}}"#;
    match Deribit::new().classify(text) {
        Inbound::Notification { channel, data } => {
            assert_eq!(channel, "book.BTC-PERPETUAL.100ms");
            assert!(data.get().starts_with(r#"{"type":"change""#));
            let start = data.get().as_ptr() as usize - text.as_ptr() as usize;
            assert_eq!(&text[start..start + data.get().len()], data.get());
        }
        other => panic!("{other:?}"),
    }
    // Key order does not matter.
    let reordered = r#"{"params":{"data":[1,2],"channel":"trades.BTC-PERPETUAL.raw"},"method":"subscription","jsonrpc":"2.0"}"#;
    match Deribit::new().classify(reordered) {
        Inbound::Notification { channel, data } => {
            assert_eq!((channel, data.get()), ("trades.BTC-PERPETUAL.raw", "[1,2]"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn test_requests_are_answered_with_public_test() {
    let text = r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}"#;
    match Deribit::new().classify(text) {
        Inbound::HeartbeatRequest { reply } => {
            assert_eq!(
                (reply.method.as_str(), reply.params.as_str()),
                ("public/test", "{}")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_heartbeats_are_keep_alives_not_messages() {
    let adapter = Deribit::new();
    let text = r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}"#;
    assert!(matches!(adapter.classify(text), Inbound::KeepAlive));
}

#[test]
fn garbage_is_other() {
    let adapter = Deribit::new();
    for text in [
        r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"a"}}"#,
        r#"{"jsonrpc":"2.0","method":"subscription","params":[1]}"#,
        r#"{"jsonrpc":"2.0","method":"subscription","params":["a",{"x":1}]}"#,
        r#"{"jsonrpc":"2.0","method":"heartbeat","params":[null,null,"test_request"]}"#,
        r#"{"jsonrpc":"2.0","method":"heartbeat"}"#,
        r#"{"jsonrpc":"2.0","method":"other","params":{"x":1}}"#,
        r#"{"jsonrpc":"2.0","id":"abc","result":1}"#,
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
        "",
        "not json",
        "[1,2]",
        "{\"id\":1",
    ] {
        assert!(matches!(adapter.classify(text), Inbound::Other), "{text}");
    }
}
