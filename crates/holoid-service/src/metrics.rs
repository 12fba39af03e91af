//! The service's counters, served as Prometheus text at `/metrics`: checks by decision, a
//! check-latency histogram, copies made, requests refused because the server was busy. No
//! personal data. Per process: Prometheus sums them over the processes it scrapes.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the check-latency buckets, seconds.
pub const LATENCY_BUCKETS: [f64; 9] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Counters of one process.
#[derive(Default)]
pub struct Metrics {
    checks: [AtomicU64; 3],
    latency: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    copies_created: AtomicU64,
    busy: AtomicU64,
    timeouts: AtomicU64,
}

/// Decisions in the order the counters keep them.
const DECISIONS: [&str; 3] = ["genuine", "forgery", "inconclusive"];

impl Metrics {
    /// Counts a check with its decision (`genuine`, `forgery`, `inconclusive`) and duration.
    pub fn check(&self, decision: &str, seconds: f64) {
        if let Some(i) = DECISIONS.iter().position(|d| *d == decision) {
            self.checks[i].fetch_add(1, Ordering::Relaxed);
        }
        for (bucket, bound) in self.latency.iter().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Counts a copy made.
    pub fn copy_created(&self) {
        self.copies_created.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request refused with 503 because the server was full.
    pub fn busy(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request that ran past the time limit.
    pub fn timeout(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition, with the number of copies stored (from the database).
    pub fn render(&self, copies_stored: i64, audit: AuditGauge) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str("# HELP holoid_checks_total Forgery checks made, by decision.\n# TYPE holoid_checks_total counter\n");
        for (d, c) in DECISIONS.iter().zip(&self.checks) {
            let _ = writeln!(out, "holoid_checks_total{{decision=\"{d}\"}} {}", get(c));
        }
        out.push_str(
            "# HELP holoid_check_seconds Time to answer a check.\n# TYPE holoid_check_seconds histogram\n",
        );
        for (bound, b) in LATENCY_BUCKETS.iter().zip(&self.latency) {
            let _ = writeln!(out, "holoid_check_seconds_bucket{{le=\"{bound}\"}} {}", get(b));
        }
        let count = get(&self.latency_count);
        let _ = writeln!(out, "holoid_check_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "holoid_check_seconds_sum {}",
            get(&self.latency_sum_us) as f64 / 1e6
        );
        let _ = writeln!(out, "holoid_check_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP holoid_copies_created_total Digital copies made by this process.\n# TYPE holoid_copies_created_total counter\nholoid_copies_created_total {}",
            get(&self.copies_created)
        );
        let _ = writeln!(
            out,
            "# HELP holoid_copies_stored Digital copies in the database.\n# TYPE holoid_copies_stored gauge\nholoid_copies_stored {copies_stored}"
        );
        let _ = writeln!(
            out,
            "# HELP holoid_rejected_total Requests refused: busy (503) or past the time limit.\n# TYPE holoid_rejected_total counter\nholoid_rejected_total{{reason=\"busy\"}} {}\nholoid_rejected_total{{reason=\"timeout\"}} {}",
            get(&self.busy),
            get(&self.timeouts)
        );
        let _ = writeln!(
            out,
            "# HELP holoid_audit_log_intact 1 while the audit log passes the check made before every append, 0 while audited writes are refused.\n# TYPE holoid_audit_log_intact gauge\nholoid_audit_log_intact {}\n# HELP holoid_audit_refusals_total Audited writes refused because the audit log failed its check.\n# TYPE holoid_audit_refusals_total counter\nholoid_audit_refusals_total {}",
            u8::from(audit.intact),
            audit.refusals
        );
        out
    }
}

/// The audit log's state for [`Metrics::render`] (kept by the store).
#[derive(Clone, Copy, Debug)]
pub struct AuditGauge {
    /// Whether audited writes are allowed.
    pub intact: bool,
    /// Appends refused so far.
    pub refusals: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.check("genuine", 0.04);
        m.check("forgery", 0.3);
        m.busy();
        let text = m.render(
            7,
            AuditGauge {
                intact: false,
                refusals: 3,
            },
        );
        assert!(text.contains("holoid_checks_total{decision=\"genuine\"} 1"));
        assert!(text.contains("holoid_checks_total{decision=\"forgery\"} 1"));
        assert!(text.contains("holoid_check_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("holoid_check_seconds_bucket{le=\"0.5\"} 2"));
        assert!(text.contains("holoid_check_seconds_count 2"));
        assert!(text.contains("holoid_copies_stored 7"));
        assert!(text.contains("holoid_rejected_total{reason=\"busy\"} 1"));
        assert!(text.contains("holoid_audit_log_intact 0"));
        assert!(text.contains("holoid_audit_refusals_total 3"));
    }
}
