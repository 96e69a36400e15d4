//! The server-handshake callback used by [`MemPeer`](super::MemPeer).

use std::sync::{Arc, Mutex, PoisonError};

use tungstenite::handshake::server::{Callback, ErrorResponse, Request, Response};
use tungstenite::http::HeaderValue;

/// Records the client's request and answers the configured subprotocol if
/// the client offered it.
pub(super) struct AcceptCallback {
    pub(super) subprotocol: Option<String>,
    pub(super) seen: Arc<Mutex<Option<Request>>>,
}

/// Whether `request` offers `protocol` in any `Sec-WebSocket-Protocol` header.
pub(super) fn offers_subprotocol(request: &Request, protocol: &str) -> bool {
    request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == protocol)
}

impl Callback for AcceptCallback {
    fn on_request(
        self,
        request: &Request,
        mut response: Response,
    ) -> Result<Response, ErrorResponse> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(request.clone());
        if let Some(protocol) = self.subprotocol {
            if offers_subprotocol(request, &protocol) {
                if let Ok(value) = HeaderValue::from_str(&protocol) {
                    response
                        .headers_mut()
                        .insert("sec-websocket-protocol", value);
                }
            }
        }
        Ok(response)
    }
}
