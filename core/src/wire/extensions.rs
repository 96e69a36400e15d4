//! The server's `Sec-WebSocket-Extensions` answer, checked against our
//! permessage-deflate offer (RFC 6455 §9.1 grammar, RFC 7692 §7.1).

use std::borrow::Cow;

use super::{DeflateConfig, PerMessageDeflate, WireError};

const NAME: &str = "permessage-deflate";

/// Reads every `Sec-WebSocket-Extensions` value of the response: `None` when
/// the server accepted no extension, the agreed parameters when it accepted
/// our offer. Anything else fails the handshake with an error naming it:
/// an extension we did not offer, permessage-deflate twice, an unknown or
/// repeated parameter, a value where none is allowed (or none where one is
/// required), window bits outside 8–15, a window larger than we asked for,
/// or a requested `server_no_context_takeover` left out.
pub(crate) fn accept<'a>(
    offered: &DeflateConfig,
    values: impl Iterator<Item = &'a str>,
) -> Result<Option<PerMessageDeflate>, WireError> {
    let mut agreed = None;
    for extension in values.flat_map(|v| v.split(',')).map(str::trim) {
        if extension.is_empty() {
            continue; // RFC 7230 §7: empty list elements are ignored
        }
        let mut parts = extension.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        if !name.eq_ignore_ascii_case(NAME) || !offered.enabled {
            // RFC 6455 §4.1, client requirement 5.
            return Err(refuse(format!(
                "server selected extension {name:?}, which was not offered"
            )));
        }
        if agreed.is_some() {
            return Err(refuse(format!("server selected {NAME} twice")));
        }
        agreed = Some(parse_params(offered, parts)?);
    }
    Ok(agreed)
}

/// The parameters of the one accepted permessage-deflate (RFC 7692 §7.1).
fn parse_params<'a>(
    offered: &DeflateConfig,
    params: impl Iterator<Item = &'a str>,
) -> Result<PerMessageDeflate, WireError> {
    let mut agreed = PerMessageDeflate {
        client_no_context_takeover: offered.client_no_context_takeover,
        ..PerMessageDeflate::default()
    };
    let mut seen: [bool; 4] = [false; 4];
    for param in params {
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v.trim()))),
            None => (param, None),
        };
        let slot = match key.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            _ => {
                return Err(refuse(format!("{NAME}: unknown parameter {key:?}")));
            }
        };
        // RFC 7692 §7: a parameter may appear once.
        if std::mem::replace(&mut seen[slot], true) {
            return Err(refuse(format!("{NAME}: parameter {key} appears twice")));
        }
        match slot {
            // §7.1.1.1, §7.1.1.2: these take no value.
            0 | 1 => {
                if let Some(value) = value {
                    return Err(refuse(format!(
                        "{NAME}: {key} takes no value (got {value:?})"
                    )));
                }
                if slot == 0 {
                    agreed.server_no_context_takeover = true;
                } else {
                    agreed.client_no_context_takeover = true;
                }
            }
            // §7.1.2.1: at most what we asked for, if we asked.
            2 => {
                let bits = window_bits(key, value)?;
                if let Some(asked) = offered.server_max_window_bits.filter(|&a| bits > a) {
                    return Err(refuse(format!(
                        "{NAME}: server_max_window_bits={bits} exceeds the {asked} offered"
                    )));
                }
                agreed.server_max_window_bits = bits;
            }
            // §7.1.2.2: we offered it, so the server may set it; our own
            // smaller window stays in force.
            _ => {
                let bits = window_bits(key, value)?;
                agreed.client_max_window_bits = bits.min(offered.client_max_window_bits);
            }
        }
    }
    // §7.1.2.1: a server accepting an offer with server_max_window_bits includes it.
    if let Some(asked) = offered.server_max_window_bits.filter(|_| !seen[2]) {
        return Err(refuse(format!(
            "{NAME}: server_max_window_bits={asked} was offered but not accepted"
        )));
    }
    if !seen[3] {
        agreed.client_max_window_bits = offered.client_max_window_bits;
    }
    // §7.1.1.1: a server accepting server_no_context_takeover includes it.
    if offered.server_no_context_takeover && !agreed.server_no_context_takeover {
        return Err(refuse(format!(
            "{NAME}: server_no_context_takeover was offered but not accepted"
        )));
    }
    Ok(agreed)
}

/// §7.1.2: a decimal integer from 8 to 15 without leading zeros; in a
/// response both window parameters need one.
fn window_bits(key: &str, value: Option<&str>) -> Result<u8, WireError> {
    let Some(value) = value else {
        return Err(refuse(format!("{NAME}: {key} needs a value")));
    };
    match value.parse::<u8>() {
        Ok(bits @ 8..=15) if !value.starts_with('0') && !value.starts_with('+') => Ok(bits),
        _ => Err(refuse(format!(
            "{NAME}: {key}={value:?} is not a window size from 8 to 15"
        ))),
    }
}

/// RFC 7692 §7: a value may be sent as a quoted-string.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

fn refuse(reason: String) -> WireError {
    WireError::InvalidHandshake(Cow::Owned(reason))
}

#[cfg(test)]
mod tests;
