//! The ISO/IEC 30107-3 evaluation of a presentation-attack detector on a dataset: per attack
//! species and capture level the APCER (attacks called genuine), for bona fide captures the
//! BPCER (bona fide not called genuine; inconclusive and errors count against), each with the
//! upper bound of its 95 % Wilson score interval, the rate of each call, the code's decode
//! rate and the time per capture. It counts what a detector said; it does not run one (the
//! `holoid eval` command does), so it does not depend on the detector.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::camera::Level;
use crate::species::Species;

/// What the detector called a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// A live, genuine card.
    Genuine,
    /// A forgery.
    Forgery,
    /// Retake: nothing conclusive.
    Inconclusive,
}

/// What the detector made of one capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Its call.
    pub call: Call,
    /// Whether the code was decoded in any frame.
    pub decoded: bool,
    /// Time spent on the capture, microseconds.
    pub total_us: u64,
}

/// The captures of one species (at one level, or over all), counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    /// Captures.
    pub n: usize,
    /// Called genuine.
    pub genuine: usize,
    /// Called forgery.
    pub forgery: usize,
    /// Called inconclusive.
    pub inconclusive: usize,
    /// Captures that could not be checked (unreadable files).
    pub errors: usize,
    /// Captures whose code was decoded.
    pub decoded: usize,
    times_us: Vec<u64>,
}

impl Group {
    /// Counts one capture: what the detector made of it, or `None` when it could not be
    /// checked.
    pub fn add(&mut self, outcome: Option<&Answer>) {
        self.n += 1;
        let Some(o) = outcome else {
            self.errors += 1;
            return;
        };
        match o.call {
            Call::Genuine => self.genuine += 1,
            Call::Forgery => self.forgery += 1,
            Call::Inconclusive => self.inconclusive += 1,
        }
        if o.decoded {
            self.decoded += 1;
        }
        self.times_us.push(o.total_us);
    }

    /// `APCER` for an attack species, `BPCER` for bona fide.
    pub fn metric(species: Species) -> &'static str {
        if species.is_attack() { "APCER" } else { "BPCER" }
    }

    /// `k` as a share of the captures (0 when there are none).
    pub fn rate(&self, k: usize) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            k as f64 / self.n as f64
        }
    }

    /// Error rate (APCER or BPCER), genuine, forgery, inconclusive and code decode rates, as
    /// percentages with one decimal.
    pub fn percentages(&self, species: Species) -> [String; 5] {
        [
            self.error_rate(species),
            self.rate(self.genuine),
            self.rate(self.forgery),
            self.rate(self.inconclusive),
            self.rate(self.decoded),
        ]
        .map(pct)
    }

    /// Captures that count against: attacks called genuine, or bona fide not called genuine.
    fn wrong(&self, species: Species) -> usize {
        if species.is_attack() {
            self.genuine
        } else {
            self.n - self.genuine
        }
    }

    /// APCER (attack accepted) or BPCER (bona fide not accepted; errors count against).
    pub fn error_rate(&self, species: Species) -> f64 {
        self.rate(self.wrong(species))
    }

    /// The error rate's upper 95 % confidence bound (Wilson score interval): how high the rate
    /// may really be given so few captures. With none wrong it is 49 % at n = 4 and 1.9 % at
    /// n = 200, so a target of "≤ 2 %" needs about 200 captures and no error.
    pub fn error_upper95(&self, species: Species) -> f64 {
        wilson_upper95(self.wrong(species), self.n)
    }

    /// Mean time per checked capture, milliseconds.
    pub fn mean_ms(&self) -> f64 {
        if self.times_us.is_empty() {
            return 0.0;
        }
        self.times_us.iter().sum::<u64>() as f64 / self.times_us.len() as f64 / 1000.0
    }

    /// 95th percentile of the time per checked capture, milliseconds.
    pub fn p95_ms(&self) -> f64 {
        let mut t = self.times_us.clone();
        if t.is_empty() {
            return 0.0;
        }
        t.sort_unstable();
        t[((t.len() as f64 * 0.95).ceil() as usize).clamp(1, t.len()) - 1] as f64 / 1000.0
    }

    /// The group as the JSON report writes it.
    pub fn report(&self, species: Species, level: Option<Level>) -> GroupReport {
        let rate = self.error_rate(species);
        GroupReport {
            species,
            level,
            attack: species.is_attack(),
            n: self.n,
            apcer: species.is_attack().then_some(rate),
            bpcer: (!species.is_attack()).then_some(rate),
            error_rate_upper95: (self.error_upper95(species) * 10_000.0).round() / 10_000.0,
            genuine: self.rate(self.genuine),
            forgery: self.rate(self.forgery),
            inconclusive: self.rate(self.inconclusive),
            errors: self.errors,
            decode_rate: self.rate(self.decoded),
            mean_ms: (self.mean_ms() * 10.0).round() / 10.0,
            p95_ms: (self.p95_ms() * 10.0).round() / 10.0,
        }
    }
}

/// One group of the JSON report: `apcer` for an attack species, `bpcer` for bona fide.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupReport {
    /// The species.
    pub species: Species,
    /// The level, or `null` for the species over all levels.
    pub level: Option<Level>,
    /// Whether the species is an attack.
    pub attack: bool,
    /// Captures.
    pub n: usize,
    /// Attacks called genuine (attack species only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apcer: Option<f64>,
    /// Bona fide not called genuine (bona fide only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpcer: Option<f64>,
    /// The error rate's upper 95 % Wilson bound.
    pub error_rate_upper95: f64,
    /// Share called genuine.
    pub genuine: f64,
    /// Share called forgery.
    pub forgery: f64,
    /// Share called inconclusive.
    pub inconclusive: f64,
    /// Captures that could not be checked.
    pub errors: usize,
    /// Share whose code was decoded.
    pub decode_rate: f64,
    /// Mean time per capture, ms.
    pub mean_ms: f64,
    /// 95th percentile time per capture, ms.
    pub p95_ms: f64,
}

/// A percentage with one decimal: `12.5%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The upper bound of the Wilson score interval at 95 % for `k` of `n`; 1 when `n` is 0.
pub fn wilson_upper95(k: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let (z, n) = (1.959_964f64, n as f64);
    let p = k as f64 / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre + spread) / (1.0 + z2 / n)).min(1.0)
}

/// The level name of a species' line over all levels.
pub const ALL_LEVELS: &str = "all";

/// Captures counted per species and level, and per species over all levels; keyed by the
/// positions in `Species::ALL` and `Level::ALL`, so they iterate in that order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Per (species, level) index.
    pub groups: BTreeMap<(usize, usize), Group>,
    /// Per species index, over all levels.
    pub per_species: BTreeMap<usize, Group>,
}

impl Summary {
    /// Counts each capture: its species, level and what the detector made of it (`None`
    /// when it could not be checked).
    pub fn of<'a>(captures: impl IntoIterator<Item = (Species, Level, Option<&'a Answer>)>) -> Summary {
        let mut s = Summary::default();
        let index = |sp: Species| Species::ALL.iter().position(|&x| x == sp).unwrap_or(0);
        let level_index = |l: Level| Level::ALL.iter().position(|&x| x == l).unwrap_or(0);
        for (species, level, outcome) in captures {
            s.groups
                .entry((index(species), level_index(level)))
                .or_default()
                .add(outcome);
            s.per_species.entry(index(species)).or_default().add(outcome);
        }
        s
    }

    /// The table's lines in order: each species at each level, then each species over all
    /// levels (level [`ALL_LEVELS`]).
    pub fn lines(&self) -> impl Iterator<Item = (Species, &'static str, &Group)> {
        let per_level = self
            .groups
            .iter()
            .map(|(&(s, l), g)| (Species::ALL[s], Level::ALL[l].name(), g));
        let overall = self
            .per_species
            .iter()
            .map(|(&s, g)| (Species::ALL[s], ALL_LEVELS, g));
        per_level.chain(overall)
    }

    /// The groups per species and level, then per species, as the JSON report writes them.
    pub fn reports(&self) -> (Vec<GroupReport>, Vec<GroupReport>) {
        (
            self.groups
                .iter()
                .map(|(&(s, l), g)| g.report(Species::ALL[s], Some(Level::ALL[l])))
                .collect(),
            self.per_species
                .iter()
                .map(|(&s, g)| g.report(Species::ALL[s], None))
                .collect(),
        )
    }

    /// The table `holoid eval` prints: a line per species and level, then per species.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<19} {:<7} {:>5}  {:<13} {:>7} {:>8} {:>8} {:>8} {:>6} {:>7} {:>8} {:>8}\n",
            "species",
            "level",
            "n",
            "error rate",
            "≤ 95%",
            "genuine",
            "forgery",
            "inconcl",
            "errors",
            "decode",
            "mean ms",
            "p95 ms"
        );
        let mut first_overall = true;
        for (sp, level, g) in self.lines() {
            if level == ALL_LEVELS && std::mem::take(&mut first_overall) {
                out.push('\n');
            }
            let [error, genuine, forgery, inconclusive, decoded] = g.percentages(sp);
            out.push_str(&format!(
                "{:<19} {level:<7} {:>5}  {} {error:>7} {:>7} {genuine:>8} {forgery:>8} {inconclusive:>8} \
                 {:>6} {decoded:>7} {:>8.1} {:>8.1}\n",
                sp.name(),
                g.n,
                Group::metric(sp),
                pct(g.error_upper95(sp)),
                g.errors,
                g.mean_ms(),
                g.p95_ms()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_bounds_match_published_values() {
        // 0 of 200: 1.9 %; 0 of 4: 49.0 %; 5 of 100: 11.2 % (Wilson 1927; e.g. Newcombe 1998).
        assert!((wilson_upper95(0, 200) - 0.018_84).abs() < 1e-4);
        assert!((wilson_upper95(0, 4) - 0.489_9).abs() < 1e-3);
        assert!((wilson_upper95(5, 100) - 0.111_8).abs() < 1e-3);
        assert_eq!(wilson_upper95(3, 0), 1.0);
        assert!(wilson_upper95(10, 10) <= 1.0);
    }

    fn outcome(call: Call) -> Answer {
        Answer {
            call,
            decoded: call != Call::Inconclusive,
            total_us: 2_000,
        }
    }

    #[test]
    fn apcer_counts_attacks_called_genuine_and_bpcer_everything_else_of_bona_fide() {
        let (g, f, i) = (
            outcome(Call::Genuine),
            outcome(Call::Forgery),
            outcome(Call::Inconclusive),
        );
        let s = Summary::of([
            (Species::Print, Level::Easy, Some(&g)),
            (Species::Print, Level::Easy, Some(&f)),
            (Species::Print, Level::Easy, Some(&f)),
            (Species::Print, Level::Easy, Some(&i)),
            (Species::BonaFide, Level::Easy, Some(&g)),
            (Species::BonaFide, Level::Easy, Some(&i)),
            (Species::BonaFide, Level::Hard, None),
            (Species::BonaFide, Level::Hard, Some(&g)),
        ]);
        let print = &s.per_species[&Species::ALL.iter().position(|&x| x == Species::Print).unwrap()];
        assert_eq!(print.error_rate(Species::Print), 0.25);
        let bona = &s.per_species[&0];
        assert_eq!(
            bona.error_rate(Species::BonaFide),
            0.5,
            "inconclusive and errors count against"
        );
        assert_eq!(bona.errors, 1);
        let (groups, species) = s.reports();
        assert_eq!(groups.len(), 3);
        assert_eq!(species.len(), 2);
        let json = serde_json::to_value(&species[1]).unwrap();
        assert_eq!(json["apcer"], 0.25);
        assert!(json.get("bpcer").is_none());
        assert_eq!(json["species"], "print");
        assert_eq!(json["level"], serde_json::Value::Null);
        let table = s.table();
        assert!(table.contains("APCER") && table.contains("BPCER"), "{table}");
        assert_eq!(table.lines().count(), 1 + 3 + 1 + 2);
    }
}
