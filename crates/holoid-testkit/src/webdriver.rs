//! A small W3C WebDriver client for Debian's chromedriver driving headless Chromium (as root:
//! --no-sandbox), over the socket HTTP client.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::http;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One request the page sent (see [`Browser::requests`]).
#[derive(Clone, Debug)]
pub struct Sent {
    pub method: String,
    pub url: String,
    pub content_type: String,
    /// Whether it carried a body at all.
    pub has_body: bool,
    /// The body as text where Chromium logged it (a body it did not log reads as 64 kB of
    /// U+FFFD, so it is never mistaken for a small one).
    pub body: String,
}

/// chromedriver and one browser session; both ended on drop.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
}

fn find(names: &[&str]) -> Option<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile in `profile`;
    /// `extra` are more Chromium flags. Panics with what to install when either is missing.
    pub fn start(profile: &Path, extra: &[String]) -> Browser {
        let driver_bin = std::env::var("HOLOID_CHROMEDRIVER").ok().or_else(|| find(&["chromedriver"])).unwrap_or_else(|| {
            panic!("no chromedriver on PATH: run scripts/setup.sh (Debian's chromium-driver), or set HOLOID_SKIP_BROWSER_TESTS=1")
        });
        let chromium = std::env::var("HOLOID_CHROMIUM")
            .ok()
            .or_else(|| find(&["chromium", "chromium-browser"]))
            .unwrap_or_else(|| {
                panic!("no chromium on PATH: run scripts/setup.sh, or set HOLOID_SKIP_BROWSER_TESTS=1")
            });
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        while http::request(addr, "GET", "/status", None, None).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--no-first-run".into(),
            "--window-size=1200,1600".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        args.extend_from_slice(extra);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"performance": "ALL", "browser": "ALL"},
        }}});
        let mut b = Browser {
            driver,
            addr,
            session: String::new(),
        };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"].as_str().expect("a session").to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let text = body.map(|b| b.to_string());
        let r = http::request(
            self.addr,
            method,
            path,
            None,
            text.as_deref().map(|t| ("application/json", t.as_bytes())),
        )
        .expect("chromedriver answers");
        let v = r.json();
        assert!(r.status < 300, "WebDriver {method} {path}: {}", v["value"]);
        v["value"].clone()
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// The requests the page sent since the last call (Chromium's network log, as the
    /// performance log gives it): method, URL, content type and body.
    pub fn requests(&self) -> Vec<Sent> {
        let entries = self.call("POST", &self.s("/se/log"), Some(json!({"type": "performance"})));
        let mut sent = Vec::new();
        for e in entries.as_array().into_iter().flatten() {
            let Some(m) = e["message"]
                .as_str()
                .and_then(|m| serde_json::from_str::<Value>(m).ok())
            else {
                continue;
            };
            if m["message"]["method"] != "Network.requestWillBeSent" {
                continue;
            }
            let r = &m["message"]["params"]["request"];
            let headers = r["headers"].as_object();
            let content_type = headers
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or_default();
            let body: String = match r["postDataEntries"].as_array() {
                // Each entry's bytes, base64; a body Chromium does not log (a file, a blob)
                // has entries without bytes and counts as unknown.
                Some(parts) => parts
                    .iter()
                    .map(|p| {
                        p["bytes"]
                            .as_str()
                            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                            .map_or("\u{fffd}".repeat(1 << 16), |b| {
                                String::from_utf8_lossy(&b).into_owned()
                            })
                    })
                    .collect(),
                None => r["postData"].as_str().unwrap_or_default().to_string(),
            };
            sent.push(Sent {
                method: r["method"].as_str().unwrap_or_default().to_string(),
                url: r["url"].as_str().unwrap_or_default().to_string(),
                content_type: content_type.to_string(),
                has_body: r["hasPostData"].as_bool().unwrap_or(false) || !body.is_empty(),
                body,
            });
        }
        sent
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({"url": url})));
    }

    /// The element matching `css` (panics if none).
    pub fn element(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            &self.s("/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT].as_str().unwrap().to_string()
    }

    /// Types `text` into the element (cleared first, except file inputs).
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css);
        if self.eval(&format!("return document.querySelector('{css}').type")) != "file" {
            self.call("POST", &self.s(&format!("/element/{e}/clear")), Some(json!({})));
        }
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/value")),
            Some(json!({"text": text})),
        );
    }

    pub fn click(&self, css: &str) {
        let e = self.element(css);
        self.call("POST", &self.s(&format!("/element/{e}/click")), Some(json!({})));
    }

    /// Runs `script` (a function body; `arguments` available) and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Runs `script` (a function body; `arguments` holds `args`, then the callback to call
    /// with the result) and returns what it passed the callback (within 60 s).
    pub fn eval_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.call("POST", &self.s("/timeouts"), Some(json!({"script": 60_000})));
        self.call(
            "POST",
            &self.s("/execute/async"),
            Some(json!({"script": script, "args": args})),
        )
    }

    /// What the page wrote to its console (and the browser's errors about it) since the last
    /// call.
    pub fn console(&self) -> Vec<String> {
        let log = self.call("POST", &self.s("/se/log"), Some(json!({"type": "browser"})));
        (log.as_array().into_iter().flatten())
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect()
    }

    /// Waits until `script` returns something truthy; returns it.
    pub fn wait_for(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.eval(script);
            if !(v.is_null() || v == json!(false) || v == json!("")) {
                return v;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let page = self.eval("return document.body.innerText");
                panic!(
                    "timed out waiting for {what}; the page says:\n{page}\nits console:\n{}",
                    self.console().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Lays the page out as on a screen of `width` x `height` CSS pixels (a phone's when
    /// `mobile`: its viewport meta tag honoured), through Chromium's device emulation.
    pub fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.call(
            "POST",
            &self.s("/goog/cdp/execute"),
            Some(json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
            }})),
        );
    }

    /// A PNG screenshot of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.call("GET", &self.s("/screenshot"), None);
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    }

    /// The page printed to PDF (A4 portrait), as the browser prints it.
    pub fn print_pdf(&self) -> Vec<u8> {
        let v = self.call(
            "POST",
            &self.s("/print"),
            Some(json!({"orientation": "portrait", "page": {"width": 21.0, "height": 29.7}, "background": true})),
        );
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http::request(
                self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
