//! Request handling: parsing, recording, injected failures, rate limiting,
//! authentication of private methods, and the session-level methods
//! (auth, test, heartbeat, subscriptions).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::auth::{self, TokenStatus};
use super::cod;
use super::conn::{Conn, Ending};
use super::heartbeat::Heartbeat;
use super::methods;
use super::rpc::{RpcError, VERSION, now_ms};
use super::state::State;
use super::stats::{EndReason, FaultKind};

/// Handles one request message.
pub(crate) fn handle(conn: &mut Conn, text: &str, us_in: u64, now: Instant) {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return conn.respond(None, Err(RpcError::new(-32700)), us_in);
    };
    let id = request.get("id").cloned();
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return conn.respond(id.as_ref(), Err(RpcError::new(-32600)), us_in);
    };
    let params = match request.get("params") {
        None | Some(Value::Null) => json!({}),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => {
            let e = RpcError::invalid_params("params", "must be an object");
            return conn.respond(id.as_ref(), Err(e), us_in);
        }
    };
    if method == "public/test" {
        if let Some(hb) = &mut conn.heartbeat {
            hb.answered();
        }
    }
    let shared = std::sync::Arc::clone(&conn.shared);
    let outcome = shared.with(|st| {
        let status = conn.token_status(st, now);
        let authenticated = matches!(status, TokenStatus::Valid(_));
        st.record_request(conn.id, method, id.clone(), authenticated);
        if let Some(code) = conn.faults.failure(method) {
            st.record_fault(Some(conn.id), FaultKind::Error);
            return Some(Err(RpcError::new(code)));
        }
        if let Some(limits) = st.config.rate_limits {
            let key = match status {
                TokenStatus::Valid(account) => account,
                _ => format!("conn:{}", conn.id),
            };
            if !st.limiter.charge(&limits, &key, method, now) {
                st.stats.rate_limited += 1;
                return Some(Err(RpcError::new(10028)));
            }
        }
        route(conn, st, method, &params, now)
    });
    // Deribit, "Rate Limits": out of credits, "we immediately send a
    // too_many_requests (code 10028) … and terminate the session".
    let terminated = matches!(&outcome, Some(Err(e)) if e.code == 10028);
    if let Some(outcome) = outcome {
        conn.respond(id.as_ref(), outcome, us_in);
    }
    if terminated && conn.ending.is_none() {
        let ending = Ending::Close(1008, "too_many_requests".into(), EndReason::RateLimited);
        conn.ending = Some(ending);
    }
}

/// The account a private request acts for: its `access_token` parameter's,
/// else the connection's.
fn require_auth(conn: &Conn, st: &State, params: &Value, now: Instant) -> Result<String, RpcError> {
    let explicit = params.get("access_token").and_then(Value::as_str);
    let Some(token) = explicit.or(conn.token.as_deref()) else {
        return Err(RpcError::unauthorized());
    };
    match st.auth.status(token, now) {
        TokenStatus::Valid(account) => Ok(account),
        TokenStatus::Expired => Err(RpcError::token_expired()),
        TokenStatus::Unknown if explicit.is_some() => Err(RpcError::invalid_token()),
        TokenStatus::Unknown => Err(RpcError::unauthorized()),
    }
}

/// Runs `method`; `None` when it gets no response (`private/logout`).
fn route(
    conn: &mut Conn,
    st: &mut State,
    method: &str,
    params: &Value,
    now: Instant,
) -> Option<Result<Value, RpcError>> {
    let result = match method {
        "public/auth" => auth::authenticate(&mut st.auth, &st.config, params, now).map(|a| {
            conn.token = Some(a.access_token);
            conn.account = Some(a.account.clone());
            if let Some(info) = st.stats.connections.get_mut(&conn.id) {
                info.account = Some(a.account.clone());
            }
            cod::on_authenticated(conn, st, &a.account);
            a.result
        }),
        "public/test" => match params.get("expected_result").and_then(Value::as_str) {
            Some("exception") => Err(RpcError::new(11094)),
            _ => Ok(json!({"version": VERSION})),
        },
        "public/hello" => Ok(json!({"version": VERSION})),
        "public/get_time" => Ok(now_ms().into()),
        "public/set_heartbeat" => set_heartbeat(conn, st, params, now),
        "public/disable_heartbeat" => {
            conn.heartbeat = None;
            if let Some(info) = st.stats.connections.get_mut(&conn.id) {
                info.heartbeat_interval = None;
            }
            Ok("ok".into())
        }
        "public/subscribe" | "public/unsubscribe" | "public/unsubscribe_all" => {
            let authenticated = matches!(conn.token_status(st, now), TokenStatus::Valid(_));
            subscriptions(conn, st, method, params, authenticated, now)
        }
        m if m.starts_with("private/") && methods::is_private(m) => {
            let account = match require_auth(conn, st, params, now) {
                Ok(account) => account,
                Err(e) => return Some(Err(e)),
            };
            match m {
                "private/subscribe" | "private/unsubscribe" | "private/unsubscribe_all" => {
                    subscriptions(conn, st, m, params, true, now)
                }
                "private/logout" => {
                    let invalidate = params.get("invalidate_token").and_then(Value::as_bool);
                    if let (Some(token), true) = (&conn.token, invalidate.unwrap_or(true)) {
                        st.auth.revoke(token);
                    }
                    conn.ending = Some(Ending::Close(1000, "logout".into(), EndReason::Logout));
                    return None;
                }
                _ => methods::private(conn, st, m, &account, params),
            }
        }
        m if m.starts_with("public/") && methods::is_public(m) => {
            methods::public(st, m, params, now)
        }
        _ => Err(RpcError::new(-32601)),
    };
    Some(result)
}

fn set_heartbeat(
    conn: &mut Conn,
    st: &mut State,
    params: &Value,
    now: Instant,
) -> Result<Value, RpcError> {
    let interval = params.get("interval").and_then(Value::as_f64);
    let interval =
        interval.ok_or_else(|| RpcError::invalid_params("interval", "required number"))?;
    let min = st.config.min_heartbeat_interval.as_secs_f64();
    if !(interval >= min && interval < 1e9) {
        return Err(RpcError::invalid_params(
            "interval",
            &format!("must be at least {min} s"),
        ));
    }
    conn.heartbeat = Some(Heartbeat::new(Duration::from_secs_f64(interval), now));
    if let Some(info) = st.stats.connections.get_mut(&conn.id) {
        info.heartbeat_interval = Some(interval);
    }
    Ok("ok".into())
}

fn subscriptions(
    conn: &mut Conn,
    st: &mut State,
    method: &str,
    params: &Value,
    authenticated: bool,
    now: Instant,
) -> Result<Value, RpcError> {
    let result = if method.ends_with("/unsubscribe_all") {
        conn.subs.clear();
        Ok("ok".into())
    } else {
        let channels = params.get("channels").and_then(Value::as_array);
        let channels =
            channels.ok_or_else(|| RpcError::invalid_params("channels", "required array"))?;
        let names: Vec<String> = channels
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        if names.len() != channels.len() {
            return Err(RpcError::invalid_params("channels", "must be strings"));
        }
        if method.ends_with("/unsubscribe") {
            Ok(conn.subs.unsubscribe(&names).into())
        } else {
            st.advance(now);
            let private = method.starts_with("private/");
            conn.subs
                .subscribe(&names, private, authenticated, &st.market, now)
                .map(Value::from)
        }
    };
    if let Some(info) = st.stats.connections.get_mut(&conn.id) {
        info.subscriptions = conn.subs.names();
    }
    result
}
