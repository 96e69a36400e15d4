//! How the mock Binance behaves: its market, its limits (as Binance
//! documents them, shortened where a test cannot wait), and its keys.

use std::time::Duration;

/// The default HMAC API key (Binance's documentation example).
pub const DEFAULT_API_KEY: &str =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
/// The default HMAC secret (Binance's documentation example).
pub const DEFAULT_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// Which market the mock plays: futures depth events carry `pu` and `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MockMarket {
    /// Spot (`U`/`u`).
    #[default]
    Spot,
    /// USD-M futures (`U`/`u`/`pu`).
    UsdM,
}

/// The mock's configuration.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Port on 127.0.0.1 (0: ephemeral).
    pub port: u16,
    /// Spot or USD-M futures.
    pub market: MockMarket,
    /// Symbols with a market (upper case).
    pub symbols: Vec<String>,
    /// Seed of the market's generator: the same seed gives the same stream.
    pub seed: u64,
    /// How often the market moves (one depth event and one trade per symbol).
    pub tick: Duration,
    /// Connections are cut after this long (Binance: 24 h).
    pub lifetime: Duration,
    /// A connection that sends more messages than this within one second
    /// (text, ping and pong frames alike) is disconnected (spot: 5).
    pub max_messages_per_second: usize,
    /// Streams one connection may listen to (1024).
    pub max_streams: usize,
    /// How often the server pings (spot: 20 s).
    pub ping_interval: Duration,
    /// How long it waits for the pong before closing (spot: 1 minute).
    pub pong_deadline: Duration,
    /// The accepted HMAC key: (API key, secret).
    pub hmac_key: (String, String),
    /// An accepted Ed25519 key: (API key, 32-byte public key).
    pub ed25519_key: Option<(String, Vec<u8>)>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            port: 0,
            market: MockMarket::Spot,
            symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
            seed: 7,
            tick: Duration::from_millis(20),
            lifetime: Duration::from_secs(24 * 60 * 60),
            max_messages_per_second: 5,
            max_streams: 1024,
            ping_interval: Duration::from_secs(20),
            pong_deadline: Duration::from_secs(60),
            hmac_key: (DEFAULT_API_KEY.into(), DEFAULT_SECRET.into()),
            ed25519_key: None,
        }
    }
}

impl MockConfig {
    /// USD-M futures defaults: pings every 3 minutes, 10 minutes to answer,
    /// 10 messages per second.
    pub fn usdm() -> Self {
        MockConfig {
            market: MockMarket::UsdM,
            ping_interval: Duration::from_secs(180),
            pong_deadline: Duration::from_secs(600),
            max_messages_per_second: 10,
            ..MockConfig::default()
        }
    }
}
