//! The `client_signature` grant's signature.

use ring::hmac;

/// `hex(HMAC_SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`, lowercase.
///
/// ```
/// use wsnova_adapters::deribit::signature;
/// // The test vector from Deribit's documentation.
/// assert_eq!(
///     signature("AMANDASECRECT", 1576074319000, "1iqt2wls", ""),
///     "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"
/// );
/// ```
pub fn signature(secret: &str, timestamp_ms: u64, nonce: &str, data: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp_ms.to_string().as_bytes());
    context.update(b"\n");
    context.update(nonce.as_bytes());
    context.update(b"\n");
    context.update(data.as_bytes());
    data_encoding::HEXLOWER.encode(context.sign().as_ref())
}
