//! Signatures checked against Binance's documented examples (WebSocket API,
//! "SIGNED request example (HMAC)") and, for Ed25519, RFC 8032's test
//! vector 1: Binance's Ed25519 example does not publish its private key, so
//! its signature cannot be reproduced; its payload is checked instead, and
//! the signature verified with the public key.

use ring::signature::{ED25519, UnparsedPublicKey};
use serde_json::json;

use super::*;

const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// RFC 8032 §7.1, TEST 1: the secret key, wrapped as PKCS#8 v1 (what
/// `openssl genpkey -algorithm ed25519` writes).
const RFC8032_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC8032_SIG_EMPTY: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

fn rfc8032_pem() -> String {
    let mut der = HEXLOWER
        .decode(b"302e020100300506032b657004220420")
        .unwrap();
    der.extend(HEXLOWER.decode(RFC8032_SEED.as_bytes()).unwrap());
    let b64 = BASE64.encode(&der);
    format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")
}

#[test]
fn hmac_matches_the_documented_signatures() {
    let signer = Signer::hmac(API_KEY, SECRET);
    // With `newOrderRespType=ACK` (the older edition of the example).
    let mut params = json!({
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.01000000", "price": "52000.00", "newOrderRespType": "ACK",
        "recvWindow": 100,
    });
    let map = params.as_object_mut().unwrap();
    signer.sign_params(map, 1645423376532);
    assert_eq!(
        payload(map),
        format!(
            "apiKey={API_KEY}&newOrderRespType=ACK&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        )
    );
    assert_eq!(
        map["signature"],
        "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"
    );
    // Without it, and with a non-ASCII symbol (the current edition).
    let ascii = format!(
        "apiKey={API_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    );
    assert_eq!(
        signer.sign(&ascii),
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    );
    let unicode = format!(
        "apiKey={API_KEY}&price=0.10000000&quantity=1.00000000&recvWindow=5000&side=BUY&symbol=１２３４５６&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    );
    assert_eq!(
        signer.sign(&unicode),
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    );
}

#[test]
fn ed25519_from_pem_matches_rfc8032_and_verifies() {
    let signer = Signer::ed25519_pem(
        "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO",
        &rfc8032_pem(),
    )
    .unwrap();
    let public = signer.public_key().unwrap();
    assert_eq!(HEXLOWER.encode(&public), RFC8032_PUBLIC);
    let sig = BASE64.decode(signer.sign("").as_bytes()).unwrap();
    assert_eq!(HEXLOWER.encode(&sig), RFC8032_SIG_EMPTY);

    // Binance's Ed25519 example: the same params give the documented payload.
    let mut params = json!({
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.01000000", "price": "52000.00", "recvWindow": 100,
    });
    let map = params.as_object_mut().unwrap();
    signer.sign_params(map, 1645423376532);
    let documented = "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT";
    assert_eq!(payload(map), documented);
    let signature = BASE64
        .decode(map["signature"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(signature.len(), 64);
    UnparsedPublicKey::new(&ED25519, &public)
        .verify(documented.as_bytes(), &signature)
        .expect("the signature verifies with the public key");
    assert!(
        UnparsedPublicKey::new(&ED25519, &public)
            .verify(b"tampered", &signature)
            .is_err()
    );
}

#[test]
fn bad_keys_are_refused_and_secrets_stay_out_of_debug() {
    assert_eq!(
        Signer::ed25519_pem("k", "no pem here").unwrap_err(),
        SignError::Pem
    );
    let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
    assert_eq!(
        Signer::ed25519_pem("k", garbage).unwrap_err(),
        SignError::Key
    );
    let hmac = format!("{:?}", Signer::hmac(API_KEY, SECRET));
    let ed = format!(
        "{:?}",
        Signer::ed25519_pem(API_KEY, &rfc8032_pem()).unwrap()
    );
    for debug in [hmac, ed] {
        assert!(
            !debug.contains(SECRET) && !debug.contains(API_KEY) && !debug.contains("9d61b1"),
            "{debug}"
        );
    }
}
