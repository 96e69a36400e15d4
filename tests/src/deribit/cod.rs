//! Cancel-on-disconnect settings (Deribit API v2,
//! `private/enable_cancel_on_disconnect` and siblings). The `scope`
//! (default `connection`) says where a change applies: this connection, or
//! the account, where "every newly opened connection will start with
//! active Cancel on Disconnect". Whatever the scope, a connection that ends
//! cancels only the orders placed through it ("Cancel-on-Disconnect does
//! not affect orders created by other connections"), and never on
//! `private/logout`.
//!
//! The mock's reading where the documentation is silent: a change on the
//! `account` scope applies to the connection that makes it as well, and a
//! new connection learns the account's setting when it authenticates (it
//! has no account before).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::conn::Conn;
use super::filters::optional;
use super::rpc::RpcError;
use super::state::State;

/// Accounts whose new connections start with cancel-on-disconnect on.
#[derive(Debug, Default)]
pub(crate) struct AccountDefaults(BTreeSet<String>);

/// The methods answered here.
pub(crate) const METHODS: &[&str] = &[
    "private/enable_cancel_on_disconnect",
    "private/disable_cancel_on_disconnect",
    "private/get_cancel_on_disconnect",
];

/// Runs one of [`METHODS`] for `account` on `conn`.
pub(crate) fn handle(
    conn: &mut Conn,
    st: &mut State,
    method: &str,
    account: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    let scope = optional(params, "scope").unwrap_or("connection");
    if !["connection", "account"].contains(&scope) {
        return Err(RpcError::invalid_params("scope", "connection or account"));
    }
    let account_scope = scope == "account";
    match method {
        "private/enable_cancel_on_disconnect" | "private/disable_cancel_on_disconnect" => {
            let enable = method == "private/enable_cancel_on_disconnect";
            if account_scope {
                let defaults = &mut st.cod_defaults.0;
                if enable {
                    defaults.insert(account.to_owned());
                } else {
                    defaults.remove(account);
                }
            }
            set(conn, st, enable.then(|| scope.to_owned()));
            Ok("ok".into())
        }
        "private/get_cancel_on_disconnect" => {
            let enabled = if account_scope {
                st.cod_defaults.0.contains(account)
            } else {
                conn.cod.is_some()
            };
            Ok(json!({"scope": scope, "enabled": enabled}))
        }
        _ => Err(RpcError::new(-32601)),
    }
}

/// After `conn` authenticated as `account`: it starts with the account's setting.
pub(crate) fn on_authenticated(conn: &mut Conn, st: &mut State, account: &str) {
    if conn.cod.is_none() && st.cod_defaults.0.contains(account) {
        set(conn, st, Some("account".to_owned()));
    }
}

fn set(conn: &mut Conn, st: &mut State, cod: Option<String>) {
    conn.cod = cod;
    if let Some(info) = st.stats.connections.get_mut(&conn.id) {
        info.cancel_on_disconnect = conn.cod.clone();
    }
}
