//! Prometheus metrics of this process, rendered as text at `GET /metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Every metric dangan exports.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    stored_files: IntCounterVec,
    stored_bytes: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("dangan".into()), None).unwrap_or_default();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
            ]),
            &["route"],
        )
        .expect("static metric definition");
        let stored_files = IntCounterVec::new(
            Opts::new(
                "stored_files_total",
                "Uploaded files by outcome: new content or deduplicated",
            ),
            &["outcome"],
        )
        .expect("static metric definition");
        let stored_bytes = IntCounter::new("stored_bytes_total", "Bytes of new content stored")
            .expect("static metric definition");
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(stored_files.clone()),
            Box::new(stored_bytes.clone()),
        ] {
            let _ = registry.register(collector);
        }
        Self {
            registry,
            http_requests,
            http_duration,
            stored_files,
            stored_bytes,
        }
    }

    /// Counts one finished HTTP request.
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[route])
            .observe(seconds);
    }

    /// Counts one uploaded file: new content, or content that was already stored.
    pub fn record_stored_file(&self, new_content: bool, size: u64) {
        let outcome = if new_content {
            "created"
        } else {
            "deduplicated"
        };
        self.stored_files.with_label_values(&[outcome]).inc();
        if new_content {
            self.stored_bytes.inc_by(size);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
