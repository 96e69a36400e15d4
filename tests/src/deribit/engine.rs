//! The matching engine: an order takes liquidity from the simulated book
//! level by level (partial fills across the depth), then rests, or is
//! cancelled, as its time in force says (Deribit API v2, `private/buy`):
//!
//! * `good_til_cancelled` / `good_til_day`: the rest stays in the book
//!   (`open`); the mock has no trading-day roll, so both rest alike;
//! * `immediate_or_cancel`: what fills at once stays filled, the rest is
//!   cancelled; `fill_or_kill`: all at once or nothing (`cancelled`);
//! * `post_only`: never takes; when it would, it is re-priced just inside the
//!   spread, or refused with 11054 `post_only_reject` under
//!   `reject_post_only`;
//! * `reduce_only`: its amount is cut to the position it reduces, and it is
//!   refused when there is nothing to reduce (the documentation names no
//!   code for that: `11030 other_reject`);
//! * market orders take what the book has; the rest is cancelled;
//!   `market_limit` rests the rest as a limit at the last fill's price.
//!
//! Resting limit orders are shown in the book (book, quote and ticker
//! channels); they fill as makers when another account's order takes them
//! (before the market's liquidity at the same price) or when the simulated
//! market crosses them ([`on_market`]). An account's taker passes over its
//! own resting orders (no self-trade). Trigger orders live in
//! [`super::triggers`].

use serde_json::{Value, json};

use super::market::{INSTRUMENTS, Spec, spec};
use super::order_params::{OrderRequest, parse, reject};
use super::orders::{OrderUpdate, Position, order_json};
use super::rpc::{RpcError, now_ms};
use super::state::State;
use super::stats::{ConnId, OrderRecord};
use super::triggers;

/// Taker fee (of the traded amount's value in the settlement currency).
const TAKER_FEE: f64 = 0.0005;

/// `private/buy` (`direction` "buy") and `private/sell`.
pub(crate) fn place(
    st: &mut State,
    conn: ConnId,
    account: &str,
    direction: &str,
    params: &Value,
) -> Result<OrderUpdate, RpcError> {
    let mut request = parse(params, direction == "buy")?;
    if request.reduce_only {
        let reducible = reducible(st, account, request.spec, request.buy);
        if reducible < 1e-9 {
            return Err(reject(
                11030,
                "other_reject",
                "reduce_only order would increase the position",
            ));
        }
        request.amount = request.amount.min(reducible);
    }
    if request.is_trigger() {
        return triggers::place(st, conn, account, request);
    }
    if request.post_only {
        reprice_post_only(st, &mut request)?;
    }
    st.next_id += 1;
    let order_id = format!("{}-{}", request.spec.currency, st.next_id);
    let record = new_record(order_id, conn, account, &request, now_ms());
    st.stats.orders.push(record);
    let index = st.stats.orders.len() - 1;
    let trades = if request.post_only {
        Vec::new()
    } else {
        let (trades, makers) = execute(st, index);
        st.broadcast(&makers);
        trades
    };
    Ok(update(st, index, trades))
}

/// An order record for `request`, not yet matched.
pub(crate) fn new_record(
    order_id: String,
    conn: ConnId,
    account: &str,
    request: &OrderRequest,
    now: u64,
) -> OrderRecord {
    OrderRecord {
        order_id,
        conn,
        account: account.to_owned(),
        instrument: request.spec.name.to_owned(),
        direction: if request.buy { "buy" } else { "sell" }.to_owned(),
        amount: request.amount,
        filled_amount: 0.0,
        price: request.price,
        average_price: 0.0,
        order_type: request.order_type.clone(),
        label: request.label.clone(),
        state: "open".to_owned(),
        time_in_force: request.time_in_force.clone(),
        post_only: request.post_only,
        reject_post_only: request.reject_post_only,
        reduce_only: request.reduce_only,
        trigger: request.trigger.clone(),
        trigger_price: request.trigger_price,
        trigger_offset: request.trigger_offset,
        trigger_reference_price: None,
        trigger_order_id: None,
        cancel_reason: None,
        created_ms: now,
        updated_ms: now,
    }
}

/// The change of order `index` (with its new `trades`), for the response
/// and the subscribers.
pub(crate) fn update(st: &State, index: usize, trades: Vec<Value>) -> OrderUpdate {
    let o = &st.stats.orders[index];
    let order = order_json(o);
    OrderUpdate {
        result: json!({"order": order, "trades": trades}),
        account: o.account.clone(),
        instrument: spec(&o.instrument).expect("orders are on listed instruments"),
        order,
    }
}

/// How much an order in direction `buy` can trade without growing the
/// position of `account` in `spec`.
pub(crate) fn reducible(st: &State, account: &str, spec: &Spec, buy: bool) -> f64 {
    let size = st
        .positions
        .get(&(account.to_owned(), spec.name))
        .map_or(0.0, |p| p.size);
    if buy { (-size).max(0.0) } else { size.max(0.0) }
}

/// A post-only order that would take: re-priced one tick inside the spread
/// ("the price will be changed to be just below the spread"), or refused.
fn reprice_post_only(st: &State, request: &mut OrderRequest) -> Result<(), RpcError> {
    let book = st.market.book(request.spec.name).expect("listed");
    let Some(price) = request.price else {
        return Ok(());
    };
    let opposite = if request.buy {
        book.best_ask().map(|(p, _)| p).filter(|&ask| price >= ask)
    } else {
        book.best_bid().map(|(p, _)| p).filter(|&bid| price <= bid)
    };
    let Some(opposite) = opposite else {
        return Ok(());
    };
    if request.reject_post_only {
        return Err(reject(
            11054,
            "post_only_reject",
            "post-only order would take liquidity",
        ));
    }
    let tick = request.spec.tick;
    let inside = if request.buy {
        opposite - tick
    } else {
        opposite + tick
    };
    request.price = Some((inside * 100.0).round() / 100.0);
    Ok(())
}

/// Where a taker's liquidity comes from at one price.
enum Source {
    /// Another account's resting order (at its index in the order list).
    Resting(usize),
    /// The simulated market's level.
    Market,
}

/// Runs order `index` as a taker against the book — other accounts'
/// resting orders first at each price (they rested before), then the
/// market's liquidity — and settles it by its time in force: the user
/// trades it made, and the changes of the resting orders it filled.
/// Orders of the taker's own account are passed over (no self-trade).
pub(crate) fn execute(st: &mut State, index: usize) -> (Vec<Value>, Vec<OrderUpdate>) {
    let o = &st.stats.orders[index];
    let buy = o.direction == "buy";
    let spec = spec(&o.instrument).expect("listed");
    let limit = if o.order_type.ends_with("market") || o.order_type == "trailing_stop" {
        None
    } else {
        o.price
    };
    let mut remaining = o.amount - o.filled_amount;
    if o.reduce_only {
        remaining = remaining.min(reducible(st, &o.account, spec, buy));
    }
    let fok = o.time_in_force == "fill_or_kill";
    let sources = liquidity(st, index, limit);
    let available: f64 = sources.iter().map(|s| s.2).sum();
    let mut trades = Vec::new();
    let mut makers = Vec::new();
    if !(fok && available + 1e-9 < remaining) {
        for (source, price, amount) in sources {
            let take = amount.min(remaining);
            if take < 1e-9 {
                break;
            }
            // Both sides of a trade share its id.
            let trade_id = st.market.next_trade_id();
            trades.push(fill(st, index, price, take, false, trade_id, true));
            match source {
                Source::Resting(maker) => {
                    let trade = fill(st, maker, price, take, true, trade_id, false);
                    let m = &mut st.stats.orders[maker];
                    if m.amount - m.filled_amount < 1e-9 {
                        m.state = "filled".to_owned();
                    }
                    makers.push(update(st, maker, vec![trade]));
                }
                Source::Market => {
                    if let Some(book) = st.market.book_mut(spec.name) {
                        book.consume(buy, price, take);
                    }
                }
            }
            remaining -= take;
        }
    }
    settle(st, index);
    (trades, makers)
}

/// The liquidity taker order `index` can reach within `limit`, best price
/// first: `(source, price, amount)`.
fn liquidity(st: &State, index: usize, limit: Option<f64>) -> Vec<(Source, f64, f64)> {
    let o = &st.stats.orders[index];
    let buy = o.direction == "buy";
    let within = |p: f64| match limit {
        None => true,
        Some(l) if buy => p <= l + 1e-9,
        Some(l) => p >= l - 1e-9,
    };
    let mut sources: Vec<(Source, f64, f64)> = Vec::new();
    for (i, m) in st.stats.orders.iter().enumerate() {
        let resting = m.state == "open" && m.instrument == o.instrument;
        let opposite = m.direction != o.direction && m.account != o.account;
        let Some(price) = m.price.filter(|&p| resting && opposite && within(p)) else {
            continue;
        };
        let mut rest = m.amount - m.filled_amount;
        if m.reduce_only {
            let spec = spec(&m.instrument).expect("listed");
            rest = rest.min(reducible(st, &m.account, spec, !buy));
        }
        if rest > 1e-9 {
            sources.push((Source::Resting(i), price, rest));
        }
    }
    let book = st.market.book(&o.instrument);
    let market = book.map_or_else(Vec::new, |b| b.levels_for_taker(buy, limit));
    sources.extend(market.into_iter().map(|(p, a)| (Source::Market, p, a)));
    // Best price first; at one price resting orders (in time order) before
    // the market's level. The sort is stable.
    sources.sort_by(|a, b| {
        let by_price = if buy {
            a.1.total_cmp(&b.1)
        } else {
            b.1.total_cmp(&a.1)
        };
        let rank = |s: &Source| matches!(s, Source::Market);
        by_price.then(rank(&a.0).cmp(&rank(&b.0)))
    });
    sources
}

/// Shows the users' resting limit orders in their books (after any change
/// of the order list).
pub(crate) fn show_resting_orders(st: &mut State) {
    for spec in INSTRUMENTS.iter() {
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        for o in &st.stats.orders {
            let resting = o.state == "open" && o.instrument == spec.name;
            let rest = o.amount - o.filled_amount;
            let Some(price) = o.price.filter(|_| resting && rest > 1e-9) else {
                continue;
            };
            let side = if o.direction == "buy" {
                &mut bids
            } else {
                &mut asks
            };
            side.push((price, rest));
        }
        st.market.set_own(spec.name, &bids, &asks);
    }
}

/// After matching: `filled`, or the rest rests (`open`) or is cancelled as
/// the order type and time in force say.
fn settle(st: &mut State, index: usize) {
    let o = &mut st.stats.orders[index];
    o.updated_ms = now_ms();
    if o.amount - o.filled_amount < 1e-9 {
        o.state = "filled".to_owned();
        return;
    }
    let immediate = matches!(
        o.time_in_force.as_str(),
        "immediate_or_cancel" | "fill_or_kill"
    );
    let market = o.order_type == "market" || o.price.is_none();
    if o.order_type == "market_limit" && o.filled_amount > 0.0 && !immediate {
        // The unfilled part rests as a limit at the price it last filled at.
        o.price = Some(o.average_price);
        o.state = "open".to_owned();
    } else if immediate || market {
        o.state = "cancelled".to_owned();
        o.cancel_reason = Some("user_request".to_owned());
    } else {
        o.state = "open".to_owned();
    }
}

/// Fills `amount` of order `index` at `price` (`maker`: it rested) in trade
/// `trade_id` (`tape`: record it on the public tape; the second side of a
/// trade is not recorded twice): the
/// order, the position and the public tape; the user trade.
pub(crate) fn fill(
    st: &mut State,
    index: usize,
    price: f64,
    amount: f64,
    maker: bool,
    trade_id: u64,
    tape: bool,
) -> Value {
    let o = &mut st.stats.orders[index];
    let spec = spec(&o.instrument).expect("listed");
    let buy = o.direction == "buy";
    let filled = o.filled_amount + amount;
    o.average_price = (o.average_price * o.filled_amount + price * amount) / filled;
    o.filled_amount = filled;
    o.updated_ms = now_ms();
    let state = if o.amount - filled < 1e-9 {
        "filled"
    } else {
        "open"
    };
    let position = st
        .positions
        .entry((o.account.clone(), spec.name))
        .or_default();
    apply_fill(position, if buy { amount } else { -amount }, price);
    let book = st.market.book_mut(spec.name).expect("listed");
    let mark = book.mark_price();
    let index_price = book.index_price;
    let (trade_seq, tick_direction) = if tape {
        book.record_trade(price, amount, buy != maker, trade_id, mark)
    } else {
        // The other side of a trade already on the tape.
        (book.trade_seq, 1)
    };
    let order_type = if o.order_type == "market" || o.order_type.ends_with("_market") {
        "market"
    } else {
        "limit"
    };
    json!({
        "trade_id": format!("{}-{}", spec.currency, trade_id),
        "trade_seq": trade_seq,
        "timestamp": o.updated_ms,
        "tick_direction": tick_direction,
        "state": state,
        "order_id": o.order_id,
        "order_type": order_type,
        "instrument_name": spec.name,
        "direction": o.direction,
        "price": price,
        "amount": amount,
        "contracts": amount / spec.contract_size,
        "liquidity": if maker { "M" } else { "T" },
        "fee": if maker { 0.0 } else { amount / price * TAKER_FEE },
        "fee_currency": spec.currency,
        "mark_price": mark,
        "index_price": index_price,
        "matching_id": null,
        "label": o.label,
        "post_only": o.post_only,
        "reduce_only": o.reduce_only,
        "api": true,
        "mmp": false,
        "risk_reducing": false,
        "profit_loss": 0.0,
    })
}

fn apply_fill(p: &mut Position, delta: f64, price: f64) {
    let new_size = p.size + delta;
    if p.size == 0.0 || p.size.signum() != new_size.signum() {
        p.average_price = if new_size == 0.0 { 0.0 } else { price };
    } else if delta.signum() == p.size.signum() {
        p.average_price = (p.average_price * p.size + price * delta) / new_size;
    }
    p.size = new_size;
}

/// After the market moved: resting limit orders the book now crosses fill
/// as makers at their own price, and trigger orders whose trigger was hit
/// fire. The changes, for the subscribers.
pub(crate) fn on_market(st: &mut State) -> Vec<OrderUpdate> {
    let mut updates = maker_fills(st);
    updates.extend(triggers::check(st));
    updates
}

fn maker_fills(st: &mut State) -> Vec<OrderUpdate> {
    let mut updates = Vec::new();
    for index in 0..st.stats.orders.len() {
        let o = &st.stats.orders[index];
        let (Some(price), "open") = (o.price, o.state.as_str()) else {
            continue;
        };
        let buy = o.direction == "buy";
        let spec = spec(&o.instrument).expect("listed");
        let book = st.market.book(spec.name).expect("listed");
        let crosses = if buy {
            book.best_ask().is_some_and(|(ask, _)| ask <= price)
        } else {
            book.best_bid().is_some_and(|(bid, _)| bid >= price)
        };
        if !crosses {
            continue;
        }
        let mut remaining = o.amount - o.filled_amount;
        if o.reduce_only {
            remaining = remaining.min(reducible(st, &o.account, spec, buy));
        }
        let crossing = st
            .market
            .book(spec.name)
            .map_or_else(Vec::new, |b| b.levels_for_taker(buy, Some(price)));
        let mut trades = Vec::new();
        for (level, amount) in crossing {
            let take = amount.min(remaining);
            if take < 1e-9 {
                break;
            }
            if let Some(book) = st.market.book_mut(spec.name) {
                book.consume(buy, level, take);
            }
            let trade_id = st.market.next_trade_id();
            trades.push(fill(st, index, price, take, true, trade_id, true));
            remaining -= take;
        }
        if trades.is_empty() {
            continue;
        }
        let o = &mut st.stats.orders[index];
        if o.amount - o.filled_amount < 1e-9 {
            o.state = "filled".to_owned();
        }
        updates.push(update(st, index, trades));
    }
    updates
}
