//! A small blocking HTTP/1.1 client over a TCP socket (one request per connection, or a
//! [`KeepAlive`] connection for many, as a browser keeps one), so the service's end-to-end
//! tests and load benchmark talk to a real port without an HTTP client dependency.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: status, headers (lower-case names), body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends one request and reads the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> std::io::Result<Response> {
    let s = connect(addr)?;
    exchange(s, addr, method, path, token, body, true)
}

/// One connection kept open for request after request (HTTP/1.1 keep-alive, as a browser
/// holds one to its server); opened again when the server has closed it.
pub struct KeepAlive {
    addr: SocketAddr,
    stream: Option<TcpStream>,
}

impl KeepAlive {
    pub fn new(addr: SocketAddr) -> KeepAlive {
        KeepAlive { addr, stream: None }
    }

    /// Sends one request on the open connection (opening one if none is) and reads the whole
    /// response, which must carry its Content-Length.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> std::io::Result<Response> {
        let stream = match self.stream.take() {
            Some(s) => s,
            None => connect(self.addr)?,
        };
        let r = exchange(&stream, self.addr, method, path, token, body, false)?;
        if r.header("connection") != Some("close") {
            self.stream = Some(stream);
        }
        Ok(r)
    }
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    // A request's head and body go out at once, not held back for the ACK of a first segment.
    s.set_nodelay(true)?;
    Ok(s)
}

/// [`request`] over TLS to `server_name` (checked against the certificate) at `addr`, trusting
/// `tls`'s roots (see `holoid_service::listen::client_config`).
pub fn request_tls(
    addr: SocketAddr,
    server_name: &str,
    tls: std::sync::Arc<rustls::ClientConfig>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> std::io::Result<Response> {
    let name =
        rustls::pki_types::ServerName::try_from(server_name.to_string()).map_err(std::io::Error::other)?;
    let session = rustls::ClientConnection::new(tls, name).map_err(std::io::Error::other)?;
    let s = rustls::StreamOwned::new(session, connect(addr)?);
    exchange(s, addr, method, path, token, body, true)
}

fn exchange(
    mut s: impl Read + Write,
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
    close: bool,
) -> std::io::Result<Response> {
    let connection = if close { "close" } else { "keep-alive" };
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: {connection}\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let (ctype, bytes) = body.unwrap_or(("", &[]));
    if body.is_some() {
        head.push_str(&format!("Content-Type: {ctype}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
    s.write_all(head.as_bytes())?;
    // A server may answer (413, 401) before reading a large body and close: that is fine.
    let _ = s.write_all(bytes);
    // Read the head, then as much body as Content-Length says (some servers keep the
    // connection open despite `Connection: close`), or to the end.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let split = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other("no end of headers"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let mut body = raw[split + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    match length {
        Some(len) => {
            while body.len() < len {
                let n = s.read(&mut buf)?;
                if n == 0 {
                    return Err(std::io::Error::other("the body ended early"));
                }
                body.extend_from_slice(&buf[..n]);
            }
            body.truncate(len);
        }
        None if close => {
            s.read_to_end(&mut body)?;
        }
        None => {
            return Err(std::io::Error::other(
                "a kept-alive answer without Content-Length",
            ));
        }
    }
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    out
}
