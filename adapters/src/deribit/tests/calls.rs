//! Typed calls and results, parsed from the API description's examples, and
//! the typed error.

use serde_json::json;
use wsnova_core::session::{JsonText, RequestError};

use super::{params, rpc_error};
use crate::deribit::calls::{
    Buy, Call, Cancel, GetAccountSummary, GetInstruments, GetOrderBook, GetPositions, GetTime,
    Sell, Test, Ticker,
};
use crate::deribit::{
    BookUpdate, BookUpdateKind, DeribitError, Direction, ErrorKind, GroupedBook, OrderParams,
    OrderPrice, code, codes,
};

fn result(text: &str) -> JsonText {
    JsonText::from_string(text)
}

#[test]
fn requests_have_their_method_and_params() {
    let get_time = GetTime {}.to_request();
    assert_eq!(
        (get_time.method.as_str(), get_time.params.as_str()),
        ("public/get_time", "{}")
    );
    assert_eq!(Test::default().params(), "{}");
    assert_eq!(
        Ticker::new("BTC-PERPETUAL").params(),
        r#"{"instrument_name":"BTC-PERPETUAL"}"#
    );
    let sell = Sell(OrderParams::limit("BTC-PERPETUAL", 10.0, 100.5).reduce_only(true));
    assert_eq!(sell.to_request().method, "private/sell");
    assert_eq!(
        params(&sell.to_request()),
        json!({"instrument_name":"BTC-PERPETUAL","amount":10.0,"type":"limit","price":100.5,"reduce_only":true})
    );
    let cancel = Cancel {
        order_id: "ETH-1".into(),
    };
    assert_eq!(
        cancel.method_and_params(),
        ("private/cancel", r#"{"order_id":"ETH-1"}"#.into())
    );
    assert_eq!(GetPositions::default().params(), "{}");
    assert_eq!(GetInstruments::new("ETH").params(), r#"{"currency":"ETH"}"#);
}

#[test]
fn results_parse_from_the_documented_examples() {
    assert_eq!(
        GetTime::parse(&result("1550147385946")).unwrap(),
        1550147385946
    );
    assert_eq!(
        Test::parse(&result(r#"{"version":"1.2.26"}"#))
            .unwrap()
            .version,
        "1.2.26"
    );

    let ticker = Ticker::parse(&result(r#"{"best_ask_amount":53040,"best_ask_price":36290,"best_bid_amount":4600,"best_bid_price":36289.5,"current_funding":0,"estimated_delivery_price":36297.02,"funding_8h":2.203e-05,"index_price":36297.02,"instrument_name":"BTC-PERPETUAL","interest_value":1.7362511643080387,"last_price":36289.5,"mark_price":36288.31,"max_price":36833.4,"min_price":35744.73,"open_interest":502231260,"settlement_price":36169.49,"state":"open","stats":{"high":36824.5,"low":35213.5,"price_change":0.2362,"volume":7831.26548117,"volume_usd":282615600},"timestamp":1623059681955}"#)).unwrap();
    assert_eq!(ticker.best_bid_price, Some(36289.5));
    assert_eq!(ticker.stats.unwrap().high, Some(36824.5));

    let instruments = GetInstruments::parse(&result(r#"[{"tick_size":2.5,"tick_size_steps":[],"taker_commission":0.0005,"settlement_period":"month","settlement_currency":"BTC","quote_currency":"USD","price_index":"btc_usd","min_trade_amount":10,"max_liquidation_commission":0.0075,"max_leverage":50,"maker_commission":0,"kind":"future","is_active":true,"instrument_name":"BTC-29SEP23","instrument_id":138583,"instrument_type":"reversed","expiration_timestamp":1695974400000,"creation_timestamp":1664524802000,"counter_currency":"USD","contract_size":10,"block_trade_tick_size":0.01,"block_trade_min_trade_amount":200000,"block_trade_commission":0.00025,"base_currency":"BTC","state":"open"}]"#)).unwrap();
    assert_eq!(instruments[0].instrument_name, "BTC-29SEP23");
    assert_eq!(instruments[0].tick_size, 2.5);

    let book = GetOrderBook::parse(&result(r#"{"timestamp":1550757626706,"stats":{"volume":93.35589552,"price_change":0.6913,"low":3940.75,"high":3976.25},"state":"open","settlement_price":3925.85,"open_interest":45.27600333464605,"min_price":3932.22,"max_price":3971.74,"mark_price":3931.97,"last_price":3955.75,"instrument_name":"BTC-PERPETUAL","index_price":3910.46,"funding_8h":0.00455263,"current_funding":0.00500063,"change_id":474988,"bids":[[3955.75,30],[3940.75,102020],[3423,42840]],"best_bid_price":3955.75,"best_bid_amount":30,"best_ask_price":0,"best_ask_amount":0,"asks":[]}"#)).unwrap();
    assert_eq!(
        (book.bids.len(), book.bids[0].0, book.bids[0].1),
        (3, 3955.75, 30.0)
    );
    assert_eq!(book.change_id, Some(474988));

    let bought = Buy::parse(&result(r#"{"trades":[{"trade_seq":1966068,"trade_id":"ETH-2696097","timestamp":1590486335742,"tick_direction":0,"state":"filled","reduce_only":true,"price":202.8,"post_only":false,"order_type":"limit","order_id":"ETH-584864807","matching_id":null,"mark_price":202.79,"liquidity":"T","instrument_name":"ETH-PERPETUAL","index_price":202.86,"fee_currency":"ETH","fee":7.766e-05,"direction":"sell","amount":21}],"order":{"web":false,"time_in_force":"good_til_cancelled","replaced":false,"reduce_only":true,"price":198.75,"post_only":false,"order_type":"limit","order_state":"filled","order_id":"ETH-584864807","max_show":21,"last_update_timestamp":1590486335742,"label":"","is_rebalance":false,"is_liquidation":false,"instrument_name":"ETH-PERPETUAL","filled_amount":21,"direction":"sell","creation_timestamp":1590486335742,"average_price":202.8,"api":true,"amount":21}}"#)).unwrap();
    assert_eq!(bought.order.direction, Direction::Sell);
    assert_eq!(bought.order.price, OrderPrice::Limit(198.75));
    assert_eq!(bought.trades[0].trade_id, "ETH-2696097");

    let cancelled = Cancel::parse(&result(r#"{"triggered":false,"trigger":"index_price","time_in_force":"good_til_cancelled","trigger_price":144.73,"reduce_only":false,"price":"market_price","post_only":false,"order_type":"stop_market","order_state":"untriggered","order_id":"ETH-SLIS-12","max_show":5,"last_update_timestamp":1550575961291,"label":"","is_rebalance":false,"is_liquidation":false,"instrument_name":"ETH-PERPETUAL","direction":"sell","creation_timestamp":1550575961291,"api":false,"amount":5}"#)).unwrap();
    assert_eq!(cancelled.price, OrderPrice::Market);

    let positions = GetPositions::parse(&result(r#"[{"average_price":7440.18,"delta":0.006687487,"direction":"buy","estimated_liquidation_price":1.74,"floating_profit_loss":0,"index_price":7466.79,"initial_margin":0.000197283,"instrument_name":"BTC-PERPETUAL","interest_value":1.7362511643080387,"kind":"future","leverage":34,"maintenance_margin":0.000143783,"mark_price":7476.65,"open_orders_margin":0.000197288,"realized_funding":-1e-08,"realized_profit_loss":-9e-09,"settlement_price":7476.65,"size":50,"size_currency":0.006687487,"total_profit_loss":3.2781e-05}]"#)).unwrap();
    assert_eq!(
        (positions[0].direction, positions[0].size),
        (Direction::Buy, 50.0)
    );

    let summary = GetAccountSummary::parse(&result(r#"{"margin_balance":302.62729214,"session_upl":0.05271555,"available_withdrawal_funds":301.35396172,"maintenance_margin":0.8857841,"total_pl":-0.33084225,"available_funds":301.38059622,"balance":302.60065765,"equity":302.61869214,"currency":"BTC","initial_margin":1.24669592,"limits":{"non_matching_engine":{"burst":1500,"rate":1000}}}"#)).unwrap();
    assert_eq!(
        (summary.currency.as_str(), summary.balance),
        ("BTC", 302.60065765)
    );
}

#[test]
fn book_notifications_parse() {
    let update: BookUpdate = serde_json::from_str(r#"{"type":"snapshot","timestamp":1,"instrument_name":"X","change_id":3,"bids":[["new",10.0,1.0]],"asks":[["new",11.0,2.0]]}"#).unwrap();
    assert_eq!(
        (update.kind, update.prev_change_id),
        (BookUpdateKind::Snapshot, None)
    );
    let grouped: GroupedBook = serde_json::from_str(
        r#"{"timestamp":1,"instrument_name":"X","change_id":3,"bids":[[10.0,1.0]],"asks":[]}"#,
    )
    .unwrap();
    assert_eq!(grouped.bids[0].0, 10.0);
}

#[test]
fn errors_are_typed_with_the_deribit_code() {
    let failed = RequestError::Rejected(rpc_error(
        10028,
        "too_many_requests",
        Some(r#"{"reason":"slow down"}"#),
    ));
    assert_eq!(code(&failed), Some(codes::TOO_MANY_REQUESTS));
    let error = DeribitError::from_request(&failed).unwrap();
    assert_eq!(error.kind(), ErrorKind::TooManyRequests);
    assert!(error.kind().is_transient());
    assert_eq!(error.reason().as_deref(), Some("slow down"));
    assert_eq!(error.param(), None);
    assert_eq!(ErrorKind::from_code(-32602), ErrorKind::InvalidRequest);
    assert!(!ErrorKind::from_code(13004).is_transient());
    assert!(DeribitError::from_request(&RequestError::Timeout).is_none());
    let plain: DeribitError = rpc_error(11050, "bad_request", Some("[1]")).into();
    assert_eq!(
        (plain.reason(), plain.to_string()),
        (None, "bad_request (Deribit error 11050)".into())
    );
}
