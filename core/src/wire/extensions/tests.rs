//! Negotiation: every parameter accepted, every refusal named.

use proptest::prelude::*;

use super::*;

fn offered() -> DeflateConfig {
    DeflateConfig::default()
}

fn answer(config: &DeflateConfig, values: &[&str]) -> Result<Option<PerMessageDeflate>, WireError> {
    accept(config, values.iter().copied())
}

fn refusal(config: &DeflateConfig, value: &str) -> String {
    match answer(config, &[value]) {
        Err(WireError::InvalidHandshake(reason)) => reason.into_owned(),
        other => panic!("{value}: expected a refusal, got {other:?}"),
    }
}

#[test]
fn no_extension_header_means_no_compression() {
    assert_eq!(answer(&offered(), &[]).unwrap(), None);
    assert_eq!(answer(&offered(), &[""]).unwrap(), None);
}

#[test]
fn every_parameter_is_accepted() {
    let p = answer(&offered(), &["permessage-deflate"])
        .unwrap()
        .unwrap();
    assert_eq!(p, PerMessageDeflate::default());
    let value = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=10; client_max_window_bits=9";
    let p = answer(&offered(), &[value]).unwrap().unwrap();
    assert_eq!(
        p,
        PerMessageDeflate {
            server_max_window_bits: 10,
            client_max_window_bits: 9,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
        }
    );
    // Case, spacing and quoted values (RFC 7692 §7) do not matter.
    let p = answer(
        &offered(),
        &["Permessage-Deflate ;server_max_window_bits=\"12\""],
    )
    .unwrap()
    .unwrap();
    assert_eq!(p.server_max_window_bits, 12);
}

#[test]
fn our_window_and_context_choices_stay_in_force() {
    let small = DeflateConfig {
        client_max_window_bits: 10,
        client_no_context_takeover: true,
        ..offered()
    };
    // The server allows more than we use: we keep our 10 bits.
    let p = answer(&small, &["permessage-deflate; client_max_window_bits=15"])
        .unwrap()
        .unwrap();
    assert_eq!(p.client_max_window_bits, 10);
    assert!(p.client_no_context_takeover);
    let p = answer(&small, &["permessage-deflate"]).unwrap().unwrap();
    assert_eq!(p.client_max_window_bits, 10);
}

#[test]
fn window_bits_8_from_the_server_is_accepted() {
    let p = answer(
        &offered(),
        &["permessage-deflate; client_max_window_bits=8"],
    )
    .unwrap()
    .unwrap();
    assert_eq!(p.client_max_window_bits, 8); // we then send uncompressed
}

#[test]
fn every_refusal_names_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        (
            "x-webkit-deflate-frame",
            r#"server selected extension "x-webkit-deflate-frame", which was not offered"#,
        ),
        (
            "permessage-deflate, permessage-deflate",
            "server selected permessage-deflate twice",
        ),
        (
            "permessage-deflate; foo",
            r#"permessage-deflate: unknown parameter "foo""#,
        ),
        (
            "permessage-deflate; foo=1",
            r#"permessage-deflate: unknown parameter "foo""#,
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate: parameter server_no_context_takeover appears twice",
        ),
        (
            "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10",
            "permessage-deflate: parameter client_max_window_bits appears twice",
        ),
        (
            "permessage-deflate; server_no_context_takeover=1",
            r#"permessage-deflate: server_no_context_takeover takes no value (got "1")"#,
        ),
        (
            "permessage-deflate; client_no_context_takeover=yes",
            r#"permessage-deflate: client_no_context_takeover takes no value (got "yes")"#,
        ),
        (
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate: server_max_window_bits needs a value",
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate: client_max_window_bits needs a value",
        ),
        (
            "permessage-deflate; server_max_window_bits=7",
            r#"permessage-deflate: server_max_window_bits="7" is not a window size from 8 to 15"#,
        ),
        (
            "permessage-deflate; server_max_window_bits=16",
            r#"permessage-deflate: server_max_window_bits="16" is not a window size from 8 to 15"#,
        ),
        (
            "permessage-deflate; client_max_window_bits=09",
            r#"permessage-deflate: client_max_window_bits="09" is not a window size from 8 to 15"#,
        ),
        (
            "permessage-deflate; client_max_window_bits=abc",
            r#"permessage-deflate: client_max_window_bits="abc" is not a window size from 8 to 15"#,
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(refusal(&offered(), value), *expected, "{value}");
    }
}

#[test]
fn refusals_that_depend_on_the_offer() {
    assert_eq!(
        refusal(&DeflateConfig::disabled(), "permessage-deflate"),
        r#"server selected extension "permessage-deflate", which was not offered"#
    );
    let asked = DeflateConfig {
        server_max_window_bits: Some(10),
        server_no_context_takeover: true,
        ..offered()
    };
    assert_eq!(
        refusal(
            &asked,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11"
        ),
        "permessage-deflate: server_max_window_bits=11 exceeds the 10 offered"
    );
    assert_eq!(
        refusal(&asked, "permessage-deflate; server_no_context_takeover"),
        "permessage-deflate: server_max_window_bits=10 was offered but not accepted"
    );
    assert_eq!(
        refusal(&asked, "permessage-deflate; server_max_window_bits=9"),
        "permessage-deflate: server_no_context_takeover was offered but not accepted"
    );
    let p = answer(
        &asked,
        &["permessage-deflate; server_no_context_takeover; server_max_window_bits=9"],
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (p.server_max_window_bits, p.server_no_context_takeover),
        (9, true)
    );
}

#[test]
fn an_answer_may_span_several_headers() {
    // Two header lines are one list (RFC 7230 §3.2.2): still only one pmd.
    assert!(answer(&offered(), &["permessage-deflate", "permessage-deflate"]).is_err());
    assert!(
        answer(&offered(), &["", "permessage-deflate"])
            .unwrap()
            .is_some()
    );
}

/// A parameter of a valid answer, as the server may write it.
fn param() -> impl Strategy<Value = (usize, String)> {
    prop_oneof![
        Just((0, "server_no_context_takeover".to_owned())),
        Just((1, "client_no_context_takeover".to_owned())),
        (8u8..=15).prop_map(|b| (2, format!("server_max_window_bits={b}"))),
        (8u8..=15).prop_map(|b| (3, format!("client_max_window_bits=\"{b}\""))),
    ]
}

proptest! {
    #[test]
    fn any_valid_answer_is_accepted_with_its_values(
        params in proptest::collection::vec(param(), 0..4),
    ) {
        let mut seen = [false; 4];
        let params: Vec<_> = params.into_iter().filter(|(k, _)| !std::mem::replace(&mut seen[*k], true)).collect();
        let value = std::iter::once("permessage-deflate".to_owned())
            .chain(params.iter().map(|(_, p)| p.clone()))
            .collect::<Vec<_>>()
            .join("; ");
        let p = answer(&offered(), &[&value]).unwrap().unwrap();
        prop_assert_eq!(p.server_no_context_takeover, seen[0]);
        prop_assert_eq!(p.client_no_context_takeover, seen[1]);
        prop_assert!((8..=15).contains(&p.server_max_window_bits));
        prop_assert!((8..=15).contains(&p.client_max_window_bits));
    }

    #[test]
    fn repeating_any_parameter_is_refused(p in param(), at in 0usize..2) {
        let value = if at == 0 {
            format!("permessage-deflate; {0}; {0}", p.1)
        } else {
            format!("permessage-deflate; {0}; server_max_window_bits=9; {0}", p.1)
        };
        let err = answer(&offered(), &[&value]).unwrap_err();
        prop_assert!(err.to_string().contains("appears twice"), "{}", err);
    }

    #[test]
    fn no_answer_panics(value in "[ -~]{0,80}") {
        let _ = answer(&offered(), &[&value]);
    }
}

#[test]
fn the_server_may_answer_exactly_the_window_we_asked_for() {
    // RFC 7692 §7.1.2.1: the server's value must not be larger than ours;
    // equal is allowed.
    let asked = DeflateConfig {
        server_max_window_bits: Some(10),
        ..offered()
    };
    let p = answer(&asked, &["permessage-deflate; server_max_window_bits=10"])
        .unwrap()
        .unwrap();
    assert_eq!(p.server_max_window_bits, 10);
}
