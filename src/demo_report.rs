//! The HTML report of `holoid demo`: one self-contained page (images inlined as data URLs,
//! no scripts or styles from elsewhere) with the card, each capture beside its verdict, and
//! the ISO/IEC 30107-3 table. Part of the `holoid` binary.

use std::fmt::Write as _;

use base64::Engine as _;
use holoid_detect::Decision;
use holoid_sim::species::Species;

use crate::demo_cmd::{DemoRun, as_expected};
use holoid_sim::eval::{ALL_LEVELS, Group};

/// `text` with the five HTML-special characters escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn figure(out: &mut String, png: &[u8], alt: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
        data_url("image/png", png),
        esc(alt),
        esc(caption)
    );
}

const STYLE: &str = "
body{font-family:system-ui,'Holoid Sans KR',sans-serif;margin:0;background:#f4f5f7;color:#1c1e21;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:28px;margin:0 0 4px}h2{font-size:21px;margin:32px 0 8px;border-bottom:1px solid #d0d4da;padding-bottom:4px}
.meta{color:#555;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0;background:#fff;border-radius:8px;padding:8px;box-shadow:0 1px 3px #0002;width:220px}
figure img{width:100%;display:block;border-radius:4px}
figcaption{font-size:13px;color:#444;margin-top:6px}
.captures{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}
.capture{display:flex;gap:12px;background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 3px #0002}
.capture img{width:180px;height:320px;object-fit:cover;border-radius:4px;flex:none}
.capture h3{margin:0;font-size:17px}.capture p{margin:4px 0;font-size:14px}
.verdict{display:inline-block;font-weight:700;font-size:20px;padding:2px 10px;border-radius:6px;color:#fff;margin:6px 0}
.genuine{background:#18794e}.forgery{background:#c62828}.inconclusive{background:#b26a00}
ul.reasons{margin:6px 0 0;padding-left:0;list-style:none;font-size:13px}
ul.reasons li{margin:2px 0}
.pass::before{content:'✓ ';color:#18794e}.fail::before{content:'✗ ';color:#c62828}.retake::before{content:'↻ ';color:#b26a00}
code{background:#eef0f3;padding:0 3px;border-radius:3px}
table{border-collapse:collapse;background:#fff;font-size:14px;box-shadow:0 1px 3px #0002}
th,td{padding:4px 10px;text-align:right;border-bottom:1px solid #e4e6ea}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
tr.total td{font-weight:600;background:#f8f9fb}
.bad{color:#c62828;font-weight:700}
.note{font-size:14px;color:#444;max-width:900px}
";

/// After loading, the page counts its images that failed to decode, for people (a banner)
/// and for tests (`data-images`, `data-broken-images` on the body).
const SCRIPT: &str = "
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0));
  document.body.dataset.images = imgs.length;
  document.body.dataset.brokenImages = broken.length;
  if (broken.length) {
    const p = document.createElement('p');
    p.className = 'bad';
    p.textContent = broken.length + ' image(s) failed to load: ' + broken.map(i => i.alt).join(', ');
    document.querySelector('main').prepend(p);
  }
});
";

/// The whole page.
pub(crate) fn html(run: &DemoRun) -> String {
    let c = &run.credential;
    let mut out = String::with_capacity(8 << 20);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>holoid demo report</title><style>@font-face{{font-family:'Holoid Sans KR';\
         src:url({font}) format('truetype')}}{STYLE}</style></head><body><main>\
         <h1>holoid demo report</h1>\
         <p class=\"meta\">Verifier's clock {} · credential <code>{}</code> ({} / {}) · captures at \
         the <b>{}</b> level · seed {} · rendered on {}</p>",
        run.at,
        esc(&c.id),
        esc(&c.holder.name_hangul),
        esc(&c.holder.name_latin),
        run.level.name(),
        run.seed,
        esc(&run.adapter),
        // The bundled OFL font, so Hangul shows on machines without a Korean font.
        font = data_url("font/ttf", holoid_text::FONT_REGULAR),
    );
    card_section(&mut out, run);
    captures_section(&mut out, run);
    life_section(&mut out, run);
    eval_section(&mut out, run);
    let _ = writeln!(
        out,
        "<h2>Reproduce</h2><p class=\"note\"><code>holoid demo --at {} --seed {} --level {}</code> \
         draws and photographs the same cards. The files beside this report: <code>card.png</code>, \
         <code>card-animation.png</code>, <code>card-blocked.png</code>, <code>card-copy-0.png</code>, \
         <code>card-copy-1.png</code>, <code>card-copy-seen.png</code>, <code>captures/</code> (every frame), <code>verdicts.json</code> \
         (the detector's full answers), <code>identity/</code> and <code>eval-dataset/</code>.</p>\
         </main><script>{SCRIPT}</script></body></html>",
        run.at.to_rfc3339(),
        run.seed,
        run.level.name()
    );
    out
}

fn card_section(out: &mut String, run: &DemoRun) {
    out.push_str(
        "<h2>1. The card in the wallet</h2><p class=\"note\">Drawn on the GPU (wgpu). The \
         holographic pattern, the code and the palette come from HMAC-SHA256 of the device key \
         and the current time window; the ring's sweep shows the time inside the window; the \
         foil follows the phone's tilt and a shake sets off a burst.</p><div class=\"cards\">",
    );
    figure(
        out,
        &run.pictures.live,
        "The live card",
        "The live card, tilted −15°, 10°.",
    );
    figure(
        out,
        &run.pictures.animation,
        "The animated card",
        "Animated (APNG): a tilt sweep turns the foil; a shake at 1.5 s sends rings across the card.",
    );
    figure(
        out,
        &run.pictures.blocked,
        "The capture-blocked card",
        "While the host reports a screen recording: the card is blanked.",
    );
    figure(
        out,
        &run.pictures.copy_pair[0],
        "Modulated frame 1",
        "Temporal modulation, frame 1: what a screenshot gets.",
    );
    figure(
        out,
        &run.pictures.copy_pair[1],
        "Modulated frame 2",
        "Frame 2: the COPY / 사본 mark with the opposite sign.",
    );
    figure(
        out,
        &run.pictures.copy_seen,
        "The mean of the two modulated frames",
        "The mean of the two: what the eye sees on the live screen.",
    );
    out.push_str("</div>");
}

fn captures_section(out: &mut String, run: &DemoRun) {
    let expected = run.checks.iter().filter(|c| as_expected(c)).count();
    let _ = write!(
        out,
        "<h2>2. The verifier's photos and the detector's verdicts</h2><p class=\"note\">One \
         capture of the live card and of every attack species of ISO/IEC 30107-3 (docs/design.md), \
         each a burst of frames from a simulated verifier's camera (perspective, blur, noise, \
         Bayer demosaicing, JPEG). The first frame is shown. <b>{expected} of {}</b> called as \
         they should be: the live card genuine, every attack a forgery.</p><div class=\"captures\">",
        run.checks.len()
    );
    for c in &run.checks {
        let v = &c.verdict;
        let decision = v.decision.as_str();
        let label = match v.decision {
            Decision::Genuine => "GENUINE",
            Decision::Forgery => "FORGERY",
            Decision::Inconclusive => "RETAKE (inconclusive)",
        };
        let img = c
            .jpegs
            .first()
            .map(|j| data_url("image/jpeg", j))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<section class=\"capture\" data-species=\"{sp}\" data-decision=\"{decision}\">\
             <img src=\"{img}\" alt=\"{sp} capture\"><div><h3>{sp}</h3><p>{desc}</p>\
             <div class=\"verdict {decision}\">{label}</div>\
             <p>score {score:.2} · {frames} frame(s) · checked in {ms:.1} ms{mark}</p><ul class=\"reasons\">",
            sp = c.species.name(),
            desc = esc(c.species.description()),
            score = v.score,
            frames = c.jpegs.len(),
            ms = v.timings.total_us as f64 / 1000.0,
            mark = if as_expected(c) {
                ""
            } else {
                " · <span class=\"bad\">not as expected</span>"
            },
        );
        for r in &v.reasons {
            let class = r.code.outcome().as_str();
            let frame = r.frame.map(|i| format!(" (frame {})", i + 1)).unwrap_or_default();
            let _ = write!(
                out,
                "<li class=\"{class}\"><code>{}</code> {}{frame}</li>",
                r.code.as_str(),
                esc(&r.message)
            );
        }
        out.push_str("</ul></div></section>");
    }
    out.push_str("</div>");
}

fn life_section(out: &mut String, run: &DemoRun) {
    let _ = write!(
        out,
        "<h2>3. The card's life</h2><p class=\"note\">The live capture above, checked again as \
         the card's status changes, as a verifier offline would with the issuer's signed status \
         list (IETF Token Status List: an EdDSA <code>statuslist+jwt</code>, 2 bits per card): \
         reported lost, found, then moved to a new phone — the old phone's card (drawn with \
         device enrolment 1's key) is then a forgery, the new phone's (enrolment 2) genuine. Each \
         phone enrolled by scanning the office's one-time QR code (below): it sent a fresh \
         X25519 key, the issuer signed its document and sealed its device key to it with HPKE \
         (RFC 9180); their wallets are in <code>identity/</code> and <code>new-phone/</code>.</p>\
         <table class=\"life\"><tr><th>moment</th><th>phone photographed</th><th>status list \
         says</th><th>decision</th><th>first reason</th></tr>"
    );
    for e in &run.life {
        let v = &e.verdict;
        let reason = v
            .reasons
            .first()
            .map(|r| format!("<code>{}</code> {}", r.code.as_str(), esc(&r.message)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr data-decision=\"{d}\"><td>{}</td><td>{}</td><td>{}</td><td><span class=\"verdict {d}\">{d}</span>{}</td><td>{reason}</td></tr>",
            esc(e.what),
            e.phone,
            e.listed,
            if v.decision == e.want {
                ""
            } else {
                " <span class=\"bad\">not as expected</span>"
            },
            d = v.decision.as_str(),
        );
    }
    out.push_str("</table><div class=\"cards\">");
    for (qr, phone) in run.offer_qr.iter().zip(["first phone", "new phone"]) {
        figure(
            out,
            qr,
            &format!("The office's one-time offer to the {phone} as a QR code"),
            &format!("The one-time offer the {phone} scanned (HOLOID:OFFER1:…): one phone, 5 minutes."),
        );
    }
    out.push_str("</div>");
}

fn eval_row(out: &mut String, class: &str, species: Species, level: &str, g: &Group) {
    let [error, genuine, forgery, inconclusive, decoded] = g.percentages(species);
    let _ = write!(
        out,
        "<tr class=\"{class}\"><td>{}</td><td>{level}</td><td>{}</td><td>{} {error}</td><td>{genuine}</td>\
         <td>{forgery}</td><td>{inconclusive}</td><td>{decoded}</td><td>{:.1}</td></tr>",
        species.name(),
        g.n,
        Group::metric(species),
        g.mean_ms()
    );
}

fn eval_section(out: &mut String, run: &DemoRun) {
    out.push_str("<h2>4. A small ISO/IEC 30107-3 evaluation</h2>");
    let Some((summary, count)) = &run.eval else {
        out.push_str("<p class=\"note\">Skipped (<code>--eval-count 0</code>).</p>");
        return;
    };
    let _ = write!(
        out,
        "<p class=\"note\">{count} capture(s) per species and level, bursts of 2, from \
         <code>holoid simulate</code> (seed {}), checked by <code>holoid eval</code>. APCER: \
         attacks called genuine; BPCER: the live card not called genuine (inconclusive counts \
         against it). At <i>harsh</i> the live card may be inconclusive (a retake) but should \
         not be called a forgery. So few captures give no statistics: the README reports the \
         held-out evaluation.</p><table><thead><tr><th>species</th><th>level</th><th>n</th>\
         <th>error rate</th><th>genuine</th><th>forgery</th><th>inconclusive</th><th>code \
         decoded</th><th>mean ms</th></tr></thead><tbody>",
        run.seed
    );
    for (species, level, g) in summary.lines() {
        eval_row(
            out,
            if level == ALL_LEVELS { "total" } else { "" },
            species,
            level,
            g,
        );
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("사본 COPY"), "사본 COPY");
    }

    #[test]
    fn data_urls_are_base64() {
        assert_eq!(data_url("image/png", b"foobar"), "data:image/png;base64,Zm9vYmFy");
    }
}
