//! What the SDK state machines tell their shells to report: a kind (which the shells map to
//! their error classes), a stable code and a message.

/// The kind of a reported problem; each binding maps it to one error class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// The server could not be reached, a request timed out, or a stream went silent
    /// (code `unavailable`).
    Unavailable,
    /// The server refused the SDK key: 401 or 403.
    Auth,
    /// Another HTTP error answer (the server's code, else `http_error`).
    Server,
    /// An answer that breaks the protocol (code `bad_response`): a body that is not UTF-8, a
    /// stream that is not `text/event-stream`.
    BadResponse,
    /// The engine refused a config (the engine's own code).
    ConfigRefused,
    /// Events were dropped because the queue was full (code `queue_full`).
    QueueFull,
    /// Events were dropped by closing (code `closed`).
    Closed,
    /// The server refused some events of an accepted batch (code `events_rejected`).
    EventsRejected,
}

impl ReportKind {
    /// A stable snake_case name of the kind (the class the bindings raise is named after it).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Unavailable => "unavailable",
            ReportKind::Auth => "auth",
            ReportKind::Server => "server",
            ReportKind::BadResponse => "bad_response",
            ReportKind::ConfigRefused => "config_refused",
            ReportKind::QueueFull => "queue_full",
            ReportKind::Closed => "closed",
            ReportKind::EventsRejected => "events_rejected",
        }
    }
}

/// One problem to report to the user's error callback (and as the last error).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Its kind.
    pub kind: ReportKind,
    /// The stable code.
    pub code: String,
    /// A message for people.
    pub message: String,
    /// The HTTP status, for HTTP error answers.
    pub status: Option<u16>,
    /// Events given up because of it (event trackers), or flag evaluations (the usage sender);
    /// 0 otherwise.
    pub dropped: u64,
    /// The events the server rejected, for [`ReportKind::EventsRejected`] (empty otherwise).
    pub rejected: Vec<Rejected>,
    /// Whether it is the first report of its kind and code since things last went well: log
    /// it as a warning, and repeats at debug level.
    pub first_of_kind: bool,
}

/// An event the server rejected in an accepted batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its index in the batch.
    pub index: usize,
    /// The server's code (`rejected` when it gave none).
    pub code: String,
    /// The server's message.
    pub message: String,
    /// The field at fault, when the server named it.
    pub path: Option<String>,
    /// The event's JSON as it was sent.
    pub event: String,
}

impl Report {
    /// The report as JSON: `kind`, `code`, `message`, `status`, `dropped`, `rejected` (each
    /// with `index`, `code`, `message`, `path`, `event`) and `first_of_kind`.
    pub fn to_json(&self) -> serde_json::Value {
        let rejected: Vec<serde_json::Value> = self
            .rejected
            .iter()
            .map(|r| {
                serde_json::json!({"index": r.index, "code": r.code, "message": r.message,
                    "path": r.path, "event": r.event})
            })
            .collect();
        serde_json::json!({
            "kind": self.kind.as_str(),
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "dropped": self.dropped,
            "rejected": rejected,
            "first_of_kind": self.first_of_kind,
        })
    }
}

/// A machine's action as JSON: `{"type": kind, ...fields}` (the shape of the shared fixtures),
/// built by one insertion loop: in the wasm engine module, much smaller than a `json!` per
/// variant of each machine's actions.
pub(crate) fn action_json(kind: &str, fields: Vec<(&str, serde_json::Value)>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert("type".to_owned(), kind.into());
    for (name, value) in fields {
        map.insert(name.to_owned(), value);
    }
    serde_json::Value::Object(map)
}

/// Remembers which kind of trouble was last reported, so that each kind is a warning once
/// until things go well again.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReportLog {
    last: Option<(ReportKind, String)>,
}

impl ReportLog {
    /// A report; `first_of_kind` when it differs from the last one reported.
    pub(crate) fn report(
        &mut self,
        kind: ReportKind,
        code: impl Into<String>,
        message: impl Into<String>,
        status: Option<u16>,
        dropped: u64,
    ) -> Report {
        let code = code.into();
        let first_of_kind = self.last.as_ref() != Some(&(kind, code.clone()));
        self.last = Some((kind, code.clone()));
        Report {
            kind,
            code,
            message: message.into(),
            status,
            dropped,
            rejected: Vec::new(),
            first_of_kind,
        }
    }

    /// Things went well: the next report of any kind is a warning again. Answers whether
    /// anything had been reported.
    pub(crate) fn recover(&mut self) -> bool {
        self.last.take().is_some()
    }
}
