//! The counter officer's web console in a real browser (Debian's Chromium, headless, driven by
//! chromedriver): sign-in refused with a bad token; simulated camera JPEGs checked through the
//! file fallback (genuine, and a stale replay called a forgery with its reason); a copy stored,
//! listed, opened and printed (one A4 page, the overlay in the picture); another office's
//! officer refused the copy by URL; the loss desk suspending and resuming the card; the
//! issuance desk's QR code read off the page and a phone enrolled with it; the auditor's log
//! verified. Needs a GPU adapter for the
//! captures unless HOLOID_SKIP_GPU_TESTS=1, and the browser unless HOLOID_SKIP_BROWSER_TESTS=1.

use holoid_testkit::captures;
use holoid_testkit::service as support;
use holoid_testkit::webdriver;

use base64::Engine;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use captures::{Burst, Camera, mid_window_after, now};
use holoid_service::ServiceConfig;
use holoid_sim::camera::Level;
use holoid_sim::species::Species;
use support::{Serving, register_over_http, scratch, sqlite_url, world};
use webdriver::Browser;

fn skip() -> bool {
    for (var, what) in [
        (
            "HOLOID_SKIP_GPU_TESTS",
            "the console test (its captures need a GPU adapter)",
        ),
        (
            "HOLOID_SKIP_BROWSER_TESTS",
            "the console test (it needs Chromium)",
        ),
    ] {
        if std::env::var(var).as_deref() == Ok("1") {
            eprintln!("{var}=1: SKIPPING {what}");
            return true;
        }
    }
    false
}

/// Writes a burst's JPEGs with their capture times as the files' modification times (what the
/// console's file fallback takes as the time a photo was taken).
fn burst_files(dir: &Path, name: &str, burst: &Burst) -> Vec<PathBuf> {
    burst
        .jpegs
        .iter()
        .zip(&burst.times)
        .enumerate()
        .map(|(i, (jpeg, t))| {
            let path = dir.join(format!("{name}-{i}.jpg"));
            std::fs::write(&path, jpeg).unwrap();
            let when = SystemTime::UNIX_EPOCH + Duration::from_millis(t.0);
            File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
            path
        })
        .collect()
}

fn upload(browser: &Browser, files: &[PathBuf]) {
    let list: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    browser.type_into("#files", &list.join("\n"));
}

/// The decision the page shows once a check is answered.
fn decision(browser: &Browser) -> String {
    browser
        .wait_for(
            "a verdict",
            "const r = document.getElementById('result'); const v = document.getElementById('verdict'); \
             return !r.hidden && v.dataset.decision ? v.dataset.decision + '|' + v.textContent : null",
        )
        .as_str()
        .unwrap()
        .to_string()
}

/// Every text on screen whose contrast with the colour behind it is below WCAG AA's 4.5:1
/// (disabled controls aside), and the verdict's, the reasons', the age's and the kiosk's
/// colours for every outcome (each drawn once, measured, removed): `[what, ratio]` pairs.
const CONTRAST: &str = "
  const lum = (c) => {
    const v = c.match(/[\\d.]+/g).slice(0, 3).map((x) => Number(x) / 255)
      .map((x) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const b = getComputedStyle(el).backgroundColor;
      if (b !== 'transparent' && !b.startsWith('rgba(0, 0, 0, 0)')) return b;
    }
    return 'rgb(255, 255, 255)';
  };
  const ratio = (el) => {
    const [a, b] = [lum(getComputedStyle(el).color), lum(behind(el))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const poor = [];
  const texts = [...document.querySelectorAll('body *')].filter((e) => e.offsetParent !== null
    && !e.disabled && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()));
  for (const e of texts) {
    const r = ratio(e);
    if (r < 4.5) poor.push([e.id || e.className || e.tagName, r]);
  }
  const kinds = [['div', 'verdict', ['genuine', 'forgery', 'inconclusive']],
    ['li', '', ['fail', 'retake', 'pass']], ['p', 'status', ['ok', 'broken']],
    ['p', 'age-label', ['old-enough', 'too-young']]];
  const host = document.getElementById('result');
  for (const [tag, base, variants] of kinds) {
    for (const v of variants) {
      const e = document.createElement(tag);
      e.className = `${base} ${v}`.trim();
      e.textContent = 'x';
      (tag === 'li' ? document.getElementById('reasons') : host).appendChild(e);
      const r = ratio(e);
      e.remove();
      if (r < 4.5) poor.push([e.className, r]);
    }
  }
  for (const state of ['scanning', 'retake', 'genuine', 'forgery']) {
    const e = document.createElement('div');
    e.className = 'kiosk-say';
    e.dataset.state = state;
    e.innerHTML = '<p>x</p>';
    document.body.appendChild(e);
    const r = ratio(e.firstChild);
    e.remove();
    if (r < 4.5) poor.push(['kiosk ' + state, r]);
  }
  return poor;
";

fn sign_in(browser: &Browser, base: &str, token: &str) {
    browser.goto(&format!("{base}/#check"));
    browser.wait_for(
        "the sign-in form",
        "return !document.getElementById('view-signin').hidden",
    );
    browser.type_into("#token", token);
    browser.click("#signin-form button");
}

#[test]
fn an_officer_checks_stores_lists_and_prints_a_copy() {
    if skip() {
        return;
    }
    let dir = scratch("console");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let w = rt.block_on(world(&sqlite_url("console"), ServiceConfig::default()));
    let server = Serving::start(&rt, w.state.clone());
    let addr = server.addr;
    register_over_http(addr, &w.tokens.admin, &w.demo);
    let base = format!("http://{addr}");
    let browser = Browser::start(&dir.join("profile"), &[]);

    // A bad token is refused, in words, and nothing else opens.
    sign_in(&browser, &base, "holoid_0123456789abcdef");
    let refused = browser.wait_for(
        "the refusal",
        "const m = document.getElementById('message'); return m.hidden ? null : m.textContent",
    );
    assert!(refused.as_str().unwrap().contains("토큰이 거부"), "{refused}");
    assert_eq!(browser.eval("return document.getElementById('nav').hidden"), true);

    // The officer signs in (switching the page to English) and checks photos of the live card.
    browser.click("#lang");
    sign_in(&browser, &base, &w.tokens.officer);
    browser.wait_for(
        "the check view",
        "return !document.getElementById('view-check').hidden",
    );
    let mut camera = Camera::new(&w.demo);
    let live = burst_files(
        &dir,
        "live",
        &camera.shoot(Species::BonaFide, Level::Easy, mid_window_after(now()), 3, 31),
    );
    upload(&browser, &live);
    assert_eq!(decision(&browser), "genuine|GENUINE");
    browser.wait_for(
        "the card image",
        "const i = document.getElementById('card'); return !i.hidden && i.naturalWidth > 0",
    );
    // The holder panel: the registered portrait (the service's record) beside the card, the
    // registered name, birth date and age; the officer says the person matches.
    let holder = &w.demo.credential.credential.holder;
    let record = browser.wait_for(
        "the holder panel",
        "const p = document.getElementById('portrait'); \
         return !document.getElementById('holder').hidden && p.naturalWidth > 0 \
           ? document.getElementById('holder-record').innerText : null",
    );
    let record = record.as_str().unwrap();
    for shown in [
        &holder.name_hangul,
        &holder.name_latin,
        &holder.resident_number_masked,
    ] {
        assert!(record.contains(shown.as_str()), "{shown} not in {record}");
    }
    assert!(
        record.contains(&format!("{} (age ", holder.birth_date)),
        "{record}"
    );
    if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/console-holder.png"),
            browser.screenshot(),
        )
        .unwrap();
    }
    browser.click("#match-yes");
    let said = browser.wait_for(
        "the answer recorded",
        "const s = document.getElementById('match-said'); return s.hidden ? null : s.dataset.matches",
    );
    assert_eq!(said, "true");
    assert_eq!(
        browser.eval("return document.getElementById('match-yes').disabled"),
        true
    );
    // The language switched with a result on screen: its words follow.
    browser.click("#lang");
    let korean = browser.eval(
        "return document.getElementById('verdict').textContent + '|' + document.querySelector('#holder-record dt').textContent \
         + '|' + document.getElementById('match-said').textContent",
    );
    assert_eq!(korean, "진본|이름|기록됨: 본인이 맞습니다.");
    browser.click("#lang");
    // The same result on a phone's, a tablet's and a desktop's screen: nothing wider than the
    // screen, every text on it (and every verdict colour) at WCAG AA contrast, screenshots.
    for (name, width, height, mobile) in [
        ("phone", 390, 844, true),
        ("tablet", 820, 1180, true),
        ("desktop", 1280, 1000, false),
    ] {
        browser.viewport(width, height, mobile);
        // The page laid out at the new width (a desktop's keeps a scroll bar).
        browser.wait_for(
            &format!("the {name} layout"),
            &format!(
                "const w = document.documentElement.clientWidth; return (w <= {width} && w > {width} - 20) || null"
            ),
        );
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{name}: {overflow} px wider than the screen"
        );
        // Every control on screen is reached by the keyboard (native, not taken out of the
        // tab order).
        let unreachable = browser.eval(
            "return [...document.querySelectorAll('button, a, input, select, textarea, [onclick], [tabindex]')] \
             .filter((e) => (e.offsetParent !== null || e.closest('.file')?.offsetParent) && !e.disabled && e.tabIndex < 0) \
             .map((e) => e.id || e.outerHTML.slice(0, 60))",
        );
        assert_eq!(unreachable, serde_json::json!([]), "{name}: not reachable by Tab");
        let poor = browser.eval(CONTRAST);
        assert_eq!(poor, serde_json::json!([]), "{name}: below 4.5:1");
        if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
            browser.eval("document.getElementById('result').scrollIntoView({block: 'start'})");
            std::fs::write(
                format!("{}/../../docs/console-{name}.png", env!("CARGO_MANIFEST_DIR")),
                browser.screenshot(),
            )
            .unwrap();
        }
    }
    browser.viewport(1200, 1600, false);
    browser.type_into("#purpose", "bank account opening");
    browser.click("#copy-form button");
    let copy_id = browser
        .wait_for(
            "the stored copy",
            "return location.hash.startsWith('#copy/') && document.getElementById('copy-image').naturalWidth > 0 \
             && document.getElementById('copy-details').dataset.signature ? location.hash.slice(6) : null",
        )
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        browser.eval("return document.getElementById('copy-details').dataset.signature"),
        "valid"
    );
    let details = browser.eval("return document.getElementById('copy-details').innerText");
    assert!(
        details.as_str().unwrap().contains("bank account opening"),
        "{details}"
    );

    // Printed: one A4 page with the copy; the print view on screen has no buttons.
    let pdf = browser.print_pdf();
    assert!(pdf.starts_with(b"%PDF"));
    let pages = String::from_utf8_lossy(&pdf).matches("/Type /Page").count()
        - String::from_utf8_lossy(&pdf).matches("/Type /Pages").count();
    assert_eq!(pages, 1, "the copy prints on one page");
    browser.goto(&format!("{base}/#copy/{copy_id}/print"));
    browser.wait_for(
        "the print view",
        "return document.body.classList.contains('printing') && document.getElementById('copy-image').naturalWidth > 0",
    );
    // The picture decoded and two frames painted since, before the screenshot.
    browser.wait_for(
        "the copy painted",
        "if (!window.holoidPaint) { window.holoidPaint = 'waiting'; \
           document.getElementById('copy-image').decode().then(() => requestAnimationFrame(() => \
             requestAnimationFrame(() => { window.holoidPaint = 'done'; }))); } \
         return window.holoidPaint === 'done'",
    );
    assert_eq!(
        browser.eval("return document.getElementById('print').offsetParent === null"),
        true,
        "the print view shows no buttons"
    );
    let shot = image::load_from_memory(&browser.screenshot()).unwrap().to_rgb8();
    // The copy's red 사본 · VERIFIED COPY band is in the picture, with its white lettering.
    // The band tints whatever colours the card has this window toward red: reddish, not a
    // fixed colour.
    let is_red = |p: &image::Rgb<u8>| {
        let [r, g, b] = p.0.map(i32::from);
        r > 120 && r > g + 50 && r > b + 40
    };
    let band_rows: Vec<u32> = (0..shot.height())
        .filter(|&y| {
            (0..shot.width())
                .filter(|&x| is_red(shot.get_pixel(x, y)))
                .count()
                > 150
        })
        .collect();
    assert!(
        band_rows.len() > 20,
        "no overlay band in the print view ({} red rows)",
        band_rows.len()
    );
    // White pixels between a band row's first and last red pixel: the letters on the band
    // (the page around the picture is white too, so it is left out).
    let lettering: usize = band_rows
        .iter()
        .map(|&y| {
            let red: Vec<u32> = (0..shot.width())
                .filter(|&x| is_red(shot.get_pixel(x, y)))
                .collect();
            let (first, last) = (red[0], red[red.len() - 1]);
            (first..last)
                .filter(|&x| {
                    let p = shot.get_pixel(x, y);
                    p[0] > 230 && p[1] > 230 && p[2] > 230
                })
                .count()
        })
        .sum();
    assert!(
        lettering > 500,
        "no lettering on the overlay band ({lettering} white pixels)"
    );
    if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/console-print.png"),
            browser.screenshot(),
        )
        .unwrap();
    }

    // The office's list shows it.
    browser.goto(&format!("{base}/#copies"));
    let listed = browser.wait_for(
        "the list",
        &format!("return document.querySelector('tr[data-copy=\"{copy_id}\"]') ? document.getElementById('copies-body').innerText : null"),
    );
    assert!(listed.as_str().unwrap().contains("bank account opening"));

    // A stale replay: a forgery, with its reason in words.
    browser.goto(&format!("{base}/#check"));
    let stale = burst_files(
        &dir,
        "stale",
        &camera.shoot(Species::StaleReplay, Level::Easy, mid_window_after(now()), 3, 32),
    );
    browser.wait_for(
        "the check view",
        "return !document.getElementById('view-check').hidden",
    );
    upload(&browser, &stale);
    assert_eq!(decision(&browser), "forgery|FORGERY");
    let reasons = browser.eval("return document.getElementById('reasons').innerText");
    assert!(reasons.as_str().unwrap().contains("replay"), "{reasons}");
    // Three frames of one stale window: the finding is said once, and the time it took in
    // milliseconds (a check of tens of milliseconds once read "checked in 0.0 s").
    let stale_lines = browser.eval(
        "return [...document.querySelectorAll('#reasons li')].filter(li => li.dataset.code === 'stale_window').length",
    );
    assert_eq!(stale_lines.as_u64(), Some(1), "{reasons}");
    let meta = browser.eval("return document.getElementById('verdict-meta').textContent");
    let meta = meta.as_str().unwrap_or_default();
    assert!(
        meta.starts_with("3 photo(s) · checked in ") && meta.ends_with(" ms"),
        "{meta}"
    );
    if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/console-check.png"),
            browser.screenshot(),
        )
        .unwrap();
    }

    // A shop: an age token sees "19+" and the registered portrait, and nothing else of the
    // holder anywhere on the page; no copies, no status desk.
    let shop = rt.block_on(support::view_token(
        w.state.store(),
        holoid_service::auth::View::Age { over: 19 },
        "GS25 Clerk",
    ));
    browser.click("#signout");
    sign_in(&browser, &base, &shop);
    browser.wait_for(
        "the check view",
        "return !document.getElementById('view-check').hidden",
    );
    let adult = burst_files(
        &dir,
        "shop",
        &camera.shoot(Species::BonaFide, Level::Easy, mid_window_after(now()), 3, 33),
    );
    upload(&browser, &adult);
    assert_eq!(decision(&browser), "genuine|GENUINE");
    let label = browser.wait_for(
        "the age and the portrait",
        "const a = document.getElementById('age-label'); \
         return !a.hidden && document.getElementById('portrait').naturalWidth > 0 ? a.textContent : null",
    );
    assert_eq!(label, "19+");
    let page = browser.eval("return document.body.innerText + document.body.innerHTML");
    for datum in support::personal_data(&w.demo.credential.credential) {
        assert!(
            !page.as_str().unwrap().contains(&datum),
            "`{datum}` on the shop's page"
        );
    }
    for hidden in ["nav-copies", "nav-status", "copy-form", "card-box"] {
        assert_eq!(
            browser.eval(&format!(
                "return document.getElementById('{hidden}').offsetParent === null"
            )),
            true,
            "{hidden} shown to a shop"
        );
    }
    if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/console-age.png"),
            browser.screenshot(),
        )
        .unwrap();
    }

    // Another office's officer cannot open the copy by its URL.
    browser.click("#signout");
    sign_in(&browser, &base, &w.tokens.busan);
    browser.wait_for(
        "the check view",
        "return !document.getElementById('view-check').hidden",
    );
    browser.goto(&format!("{base}/#copy/{copy_id}"));
    let denied = browser.wait_for(
        "the refusal",
        "const m = document.getElementById('message'); return m.hidden ? null : m.textContent",
    );
    assert!(
        denied.as_str().unwrap().contains("may not") || denied.as_str().unwrap().contains("볼 수 없는"),
        "{denied}"
    );
    assert_eq!(
        browser.eval("return document.getElementById('copy-image').naturalWidth"),
        0
    );

    // The loss desk: the phone is reported lost; the card's checks are forgeries until it is
    // found again. (This officer works at another office: loss is reported anywhere.)
    let id = &w.demo.credential.credential.id;
    let status_is = |want: &str| {
        browser
            .wait_for(
                &format!("the status {want}"),
                &format!(
                    "const s = document.getElementById('status-now'); \
                     return s.dataset.status === '{want}' ? s.textContent : null"
                ),
            )
            .as_str()
            .unwrap()
            .to_string()
    };
    browser.goto(&format!("{base}/#status"));
    browser.wait_for(
        "the loss desk",
        "return !document.getElementById('view-status').hidden",
    );
    browser.type_into("#status-id", id);
    browser.click("#status-find button");
    assert!(status_is("valid").contains(id.as_str()));
    assert_eq!(
        browser.eval("return document.getElementById('status-revoke').hidden"),
        true,
        "only an admin revokes"
    );
    browser.type_into("#status-reason", "phone reported lost at the counter");
    browser.click("#status-suspend");
    assert!(status_is("suspended").contains("SUSPENDED"));
    assert_eq!(
        browser.eval("return document.getElementById('status-history').rows.length"),
        2,
        "enrolled, then suspended"
    );
    if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/console-loss.png"),
            browser.screenshot(),
        )
        .unwrap();
    }
    browser.goto(&format!("{base}/#check"));
    browser.wait_for(
        "the check view",
        "return !document.getElementById('view-check').hidden",
    );
    // New photos of the same phone (the earlier ones would be refused as a replay).
    let live = burst_files(
        &dir,
        "live-again",
        &camera.shoot(Species::BonaFide, Level::Easy, mid_window_after(now()), 3, 32),
    );
    upload(&browser, &live);
    assert_eq!(decision(&browser), "forgery|FORGERY");
    let first = browser.eval("return document.querySelector('#reasons li').dataset.code + '|' + document.querySelector('#reasons li').textContent");
    assert!(
        first
            .as_str()
            .unwrap()
            .starts_with("credential_suspended|reported lost at"),
        "{first}"
    );
    // The registered status is in the result too.
    let shown = browser.eval(
        "const s = document.getElementById('verdict-status'); return s.hidden ? null : s.dataset.status + '|' + s.textContent",
    );
    assert_eq!(
        shown,
        "suspended|Registered status: SUSPENDED (device enrolment 1)"
    );
    browser.goto(&format!("{base}/#status/{id}"));
    status_is("suspended");
    browser.type_into("#status-reason", "phone found");
    browser.click("#status-resume");
    status_is("valid");
    let api_status = rt.block_on(w.state.store().enrolments(id)).unwrap();
    assert_eq!(api_status[0].status, "valid");

    // The issuance desk: the card goes to a new phone by the QR code on the screen. The QR is
    // read off the page itself (rxing), the phone enrols with it, and the desk says so.
    browser.click("#issue");
    let shown = browser.wait_for(
        "the offer's QR code",
        "const i = document.getElementById('offer-qr'); if (!i.naturalWidth) return null; \
         const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight; \
         c.getContext('2d').drawImage(i, 0, 0); return c.toDataURL('image/png')",
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(
            shown
                .as_str()
                .unwrap()
                .trim_start_matches("data:image/png;base64,"),
        )
        .unwrap();
    let offer = holoid_testkit::qr::read(&image::load_from_memory(&png).unwrap().to_luma8())
        .expect("the QR code on the page reads");
    assert_eq!(
        browser.eval("return document.getElementById('offer-text').textContent"),
        offer.as_str()
    );
    let countdown = browser.eval("return document.getElementById('offer-state').textContent");
    assert!(countdown.as_str().unwrap().contains("left"), "{countdown}");
    if std::env::var("HOLOID_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/console-issue.png"),
            browser.screenshot(),
        )
        .unwrap();
    }
    support::enrol_over_http(addr, &offer, &w.demo.issuer.public());
    let said = browser.wait_for(
        "the desk to see the phone enrolled",
        "const s = document.getElementById('offer-state'); \
         return s.dataset.state === 'enrolled' ? s.textContent : null",
    );
    assert!(said.as_str().unwrap().contains("device enrolment 2"), "{said}");
    // The status line is refreshed after the offer's state: wait for it to name the new
    // enrolment rather than read the line still showing the first one.
    browser.wait_for(
        "the status to name device enrolment 2",
        "const s = document.getElementById('status-now'); \
         return s.dataset.status === 'valid' && s.textContent.includes('device enrolment 2') \
         ? s.textContent : null",
    );

    // The auditor sees the log verified.
    browser.click("#signout");
    sign_in(&browser, &base, &w.tokens.auditor);
    browser.goto(&format!("{base}/#audit"));
    let status = browser.wait_for(
        "the audit status",
        "const s = document.getElementById('audit-status'); return s.textContent ? s.className + '|' + s.textContent : null",
    );
    assert!(status.as_str().unwrap().starts_with("status ok|"), "{status}");

    drop(browser);
    server.stop(&rt).unwrap();
}
