//! Account views: `private/get_positions` and `private/get_account_summary`.

use serde_json::{Value, json};

use super::market::spec;
use super::rpc::{RpcError, round2};
use super::state::State;

/// `private/get_positions {currency?}`.
pub(crate) fn positions(st: &State, account: &str, params: &Value) -> Value {
    let currency = params
        .get("currency")
        .and_then(Value::as_str)
        .unwrap_or("any");
    let mut out = Vec::new();
    for ((acct, name), p) in &st.positions {
        let Some(spec) =
            spec(name).filter(|s| acct == account && (currency == "any" || s.currency == currency))
        else {
            continue;
        };
        let mark = st
            .market
            .book(name)
            .map_or(p.average_price, |b| b.mark_price());
        let upl = if p.average_price > 0.0 {
            p.size * (1.0 / p.average_price - 1.0 / mark)
        } else {
            0.0
        };
        let direction = if p.size > 0.0 {
            "buy"
        } else if p.size < 0.0 {
            "sell"
        } else {
            "zero"
        };
        out.push(json!({
            "instrument_name": spec.name, "kind": "future", "direction": direction,
            "size": p.size, "size_currency": p.size / mark, "average_price": p.average_price,
            "mark_price": mark, "index_price": round2(mark * 0.9999), "settlement_price": mark,
            "delta": p.size / mark, "leverage": 50, "floating_profit_loss": upl, "total_profit_loss": upl,
            "realized_profit_loss": 0.0, "realized_funding": 0.0, "interest_value": 0.0,
            "initial_margin": (p.size / mark).abs() * 0.02, "maintenance_margin": (p.size / mark).abs() * 0.01,
            "open_orders_margin": 0.0, "estimated_liquidation_price": null,
        }));
    }
    out.into()
}

/// `private/get_account_summary {currency}`.
pub(crate) fn account_summary(
    st: &State,
    account: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    let currency = params.get("currency").and_then(Value::as_str);
    let currency = currency.ok_or_else(|| RpcError::invalid_params("currency", "required"))?;
    let balance = match currency {
        "BTC" => 10.0,
        "ETH" => 100.0,
        "USDC" | "USDT" => 100_000.0,
        _ => return Err(RpcError::invalid_params("currency", "unknown currency")),
    };
    let upl = positions(st, account, &json!({"currency": currency}));
    let upl: f64 = upl.as_array().map_or(0.0, |a| {
        a.iter()
            .filter_map(|p| p["floating_profit_loss"].as_f64())
            .sum()
    });
    let limits = st.config.rate_limits.unwrap_or_default();
    let (burst, rate) = (
        limits.bucket / limits.cost.max(1),
        limits.refill_per_sec / limits.cost.max(1),
    );
    Ok(json!({
        "currency": currency, "balance": balance, "equity": balance + upl, "margin_balance": balance + upl,
        "available_funds": balance + upl, "available_withdrawal_funds": balance, "initial_margin": 0.0,
        "maintenance_margin": 0.0, "session_upl": upl, "session_rpl": 0.0, "total_pl": upl,
        "futures_pl": upl, "options_pl": 0.0, "delta_total": 0.0, "fee_balance": 0.0,
        "portfolio_margining_enabled": false, "cross_collateral_enabled": false,
        "id": 1, "username": account, "system_name": account, "type": "main",
        "email": format!("{account}@mock.invalid"), "creation_timestamp": 1_600_000_000_000u64,
        "limits": {
            "limits_per_currency": false,
            "non_matching_engine": {"burst": burst, "rate": rate},
            // The tier's limit, in the OpenAPI example's shape.
            "matching_engine": {"trading": {"total": {
                "burst": limits.matching_engine_burst, "rate": limits.matching_engine_rate,
            }}},
        },
    }))
}
