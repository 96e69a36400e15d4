#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/seeds/TARGET/) and is the one
place they come from. Run from fuzz/: python3 make_seeds.py

The handshake seeds answer the upgrade request of `wsnova_fuzz::new_wire()`,
whose key comes from a fixed RNG seed, so a valid `Sec-WebSocket-Accept`
reaches the accept-key check and the open connection behind it (RFC 6455
§4.2.2: base64(SHA-1(key + GUID))). The first byte of every input is the
chunk-size seed `pump` reads (0x3f: 64-byte chunks; 0x00: byte by byte).
"""
import base64, hashlib, os, random, struct, zlib

KEY = "f28szbI/Krt7aSeOlHwBxg=="  # new_wire()'s key (StdRng seed 0)
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
ACCEPT = base64.b64encode(hashlib.sha1((KEY + GUID).encode()).digest()).decode()
assert ACCEPT == "w0CDHW87HUUmIyCOEY+0wbYU0mM="


def frame(opcode, payload, fin=True, rsv1=False, mask=None):
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes([b0, n | (0x80 if mask else 0)])
    elif n < 65536:
        head = bytes([b0, 126 | (0x80 if mask else 0)]) + struct.pack(">H", n)
    else:
        head = bytes([b0, 127 | (0x80 if mask else 0)]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(p ^ mask[i % 4] for i, p in enumerate(payload))
        head += mask
    return head + payload


def response(status="101 Switching Protocols", headers=None):
    headers = headers if headers is not None else [
        "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {ACCEPT}"]
    return (f"HTTP/1.1 {status}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode()


FRAMES = [
    frame(0x1, b"hello"),
    frame(0x2, bytes(range(200))),
    frame(0x1, b"frag", fin=False) + frame(0x0, b"mented"),
    frame(0x9, b"ping") + frame(0xA, b"pong"),
    frame(0x1, "h\u00e9llo \u20ac".encode()),
    frame(0x1, b"x" * 70000),
    frame(0x8, struct.pack(">H", 1000) + b"bye"),
]


def deflated(data):
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]  # RFC 7692 §7.2.1: drop the 0x00 0x00 0xff 0xff tail


def write(target, name, data):
    d = os.path.join("seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


ok = response()
write("handshake_response", "open", b"\x3f" + ok)
write("handshake_response", "open_bytewise", b"\x00" + ok)
write("handshake_response", "open_then_frames", b"\x3f" + ok + b"".join(FRAMES))
write("handshake_response", "open_deflate", b"\x3f" + response(headers=[
    "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {ACCEPT}",
    "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"])
    + frame(0x1, deflated(b"hello hello hello"), rsv1=True))
write("handshake_response", "open_mixed_case", b"\x3f" + response(headers=[
    "upgrade: WebSocket", "connection: keep-alive, Upgrade", f"sec-websocket-accept: {ACCEPT}"]))
# RFC 6455 §4.1: a subprotocol the client did not offer fails the connection.
write("handshake_response", "unoffered_subprotocol", b"\x3f" + response(headers=[
    "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {ACCEPT}",
    "Sec-WebSocket-Protocol: wsnova.v2"]))
write("handshake_response", "wrong_accept", b"\x3f" + response(headers=[
    "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA="]))
write("handshake_response", "refused", b"\x3f" + response("503 Service Unavailable",
    ["Retry-After: 5", "Content-Length: 4"]) + b"busy")
write("handshake_response", "redirect", b"\x3f" + response("301 Moved Permanently",
    ["Location: ws://other.test/"]))

for i, f in enumerate(FRAMES):
    write("wire_frames", f"frame{i}", b"\x3f" + f)
write("wire_frames", "all_frames", b"\x07" + b"".join(FRAMES))
write("wire_frames", "masked_by_server", b"\x3f" + frame(0x1, b"masked", mask=b"\x01\x02\x03\x04"))
write("wire_frames", "bad_close", b"\x3f" + frame(0x8, struct.pack(">H", 1005)))

# inflate: the options byte, then (u16 little-endian length, compressed bytes)*.
for i, (opts, msg) in enumerate([(0x00, b"a" * 1000), (0x17, b"hello"), (0xe8, bytes(range(256)) * 4)]):
    body = deflated(msg)
    write("inflate", f"msg{i}", bytes([opts]) + struct.pack("<H", len(body)) + body)
bomb = deflated(b"\0" * (4 << 20))
write("inflate", "bomb", b"\x07" + struct.pack("<H", len(bomb)) + bomb)

# session_ops: arbitrary bytes decode to (seed, ops); long inputs give long op lists.
rng = random.Random(6455)
for i in range(4):
    write("session_ops", f"long{i}", bytes(rng.randrange(256) for _ in range(600)))
