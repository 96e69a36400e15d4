//! Account state: positions, account summaries, cancel-on-disconnect.

use serde::Deserialize;

use super::CancelScope;
use super::types::Direction;

/// A position (`private/get_positions`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Position {
    /// The instrument.
    pub instrument_name: String,
    /// `future`, `option`, …
    pub kind: String,
    /// Long, short or flat.
    pub direction: Direction,
    /// Size (negative when short).
    pub size: f64,
    /// Average entry price.
    pub average_price: f64,
    /// Mark price.
    pub mark_price: f64,
    /// Index price.
    pub index_price: f64,
    /// Delta.
    pub delta: f64,
    /// Initial margin.
    pub initial_margin: f64,
    /// Maintenance margin.
    pub maintenance_margin: f64,
    /// Total profit or loss.
    pub total_profit_loss: f64,
    /// Unrealized profit or loss.
    pub floating_profit_loss: f64,
    /// Realized profit or loss.
    pub realized_profit_loss: f64,
    /// Last settlement price.
    #[serde(default)]
    pub settlement_price: Option<f64>,
    /// Estimated liquidation price.
    #[serde(default)]
    pub estimated_liquidation_price: Option<f64>,
    /// Leverage.
    #[serde(default)]
    pub leverage: Option<f64>,
    /// Size in the base currency.
    #[serde(default)]
    pub size_currency: Option<f64>,
    /// Margin of the open orders (`private/get_position`).
    #[serde(default)]
    pub open_orders_margin: Option<f64>,
}

/// `private/get_account_summary`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccountSummary {
    /// The currency.
    pub currency: String,
    /// Balance.
    pub balance: f64,
    /// Equity.
    pub equity: f64,
    /// Available funds.
    pub available_funds: f64,
    /// Funds available for withdrawal.
    pub available_withdrawal_funds: f64,
    /// Initial margin.
    pub initial_margin: f64,
    /// Maintenance margin.
    pub maintenance_margin: f64,
    /// Margin balance.
    #[serde(default)]
    pub margin_balance: Option<f64>,
    /// Session unrealized profit or loss.
    #[serde(default)]
    pub session_upl: Option<f64>,
    /// Session realized profit or loss.
    #[serde(default)]
    pub session_rpl: Option<f64>,
    /// Total profit or loss.
    #[serde(default)]
    pub total_pl: Option<f64>,
    /// Total delta.
    #[serde(default)]
    pub delta_total: Option<f64>,
    /// Margin model, e.g. `segregated_sm`.
    #[serde(default)]
    pub margin_model: Option<String>,
}

/// `private/get_account_summaries`: the account and a summary per currency.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccountSummaries {
    /// The account's id.
    pub id: u64,
    /// The user name.
    pub username: String,
    /// The system name.
    pub system_name: String,
    /// `main` or `subaccount`.
    #[serde(rename = "type")]
    pub account_type: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether security keys are on.
    #[serde(default)]
    pub security_keys_enabled: Option<bool>,
    /// Milliseconds since the Unix epoch.
    #[serde(default)]
    pub creation_timestamp: Option<u64>,
    /// One summary per currency.
    #[serde(default)]
    pub summaries: Vec<AccountSummary>,
}

/// `private/get_cancel_on_disconnect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct CancelOnDisconnect {
    /// The scope asked about.
    #[serde(default)]
    pub scope: Option<CancelScope>,
    /// Whether it is on.
    #[serde(default)]
    pub enabled: Option<bool>,
}
