//! The tenant the activation planner's unit tests talk to (tests only): its tokens and the
//! answers to its writes are the test's script; every write and every re-read is kept for the
//! test to check. One double for one row's attempts (`executor`) and for whole runs (`run`).

use crate::backend::{ApiError, Backend, BackendKind, CodeWrite, Device, DeviceStatus};
use crate::clock::ServerClock;
use crate::inventory::{Row, SecretFormat, SecretKey};
use crate::otp::HashFunction;
use crate::record::TenantToken;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every row's seed.
pub const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// A row of `serial`'s token for the user `{serial}@contoso.com`.
pub fn row(line: u64, serial: &str) -> Row {
    Row {
        line,
        upn: format!("{serial}@contoso.com"),
        serial: serial.into(),
        secret: Some(SecretKey::decode(SECRET, SecretFormat::Base32).unwrap()),
        time_interval: 30,
        hash: HashFunction::Sha1,
        manufacturer: String::new(),
        model: String::new(),
        display_name: None,
        extra: vec![],
    }
}

/// `serial`'s token, assigned to the user of its [`row`].
pub fn device(serial: &str) -> Device {
    Device {
        token: TenantToken {
            id: format!("dev-{serial}"),
            serial: serial.into(),
            status: "assigned".into(),
            ..Default::default()
        },
        status: DeviceStatus::Assigned,
        owner_upn: Some(format!("{serial}@contoso.com")),
    }
}

/// A write the tenant received.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// When (the tenant's clock, ms).
    pub at_ms: i64,
    pub serial: String,
    pub code: String,
}

/// The tokens a read shows, given the writes so far.
type Tokens = Box<dyn Fn(&[Sent]) -> Vec<Device> + Send + Sync>;
/// A write's answer (it may panic: a bug in the backend).
type Answer = Box<dyn Fn(&Sent) -> Result<(), ApiError> + Send + Sync>;

pub struct Double {
    pub clock: Arc<ServerClock>,
    tokens: Tokens,
    answer: Answer,
    pub sent: Mutex<Vec<Sent>>,
    /// Reads after the planning one: (`get`s, `find`s once something was written).
    pub reads: Mutex<(u32, u32)>,
    /// How long a write takes to answer (real time, unless the test pauses tokio's clock).
    pub delay: Duration,
}

impl Double {
    pub fn new(
        clock: Arc<ServerClock>,
        tokens: impl Fn(&[Sent]) -> Vec<Device> + Send + Sync + 'static,
        answer: impl Fn(&Sent) -> Result<(), ApiError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            clock,
            tokens: Box::new(tokens),
            answer: Box::new(answer),
            sent: Mutex::new(vec![]),
            reads: Mutex::new((0, 0)),
            delay: Duration::ZERO,
        }
    }

    /// The serials written, in order.
    pub fn serials(&self) -> Vec<String> {
        self.sent.lock().unwrap().iter().map(|s| s.serial.clone()).collect()
    }

    fn tokens_now(&self) -> Vec<Device> {
        (self.tokens)(&self.sent.lock().unwrap())
    }
}

impl Backend for Double {
    /// Graph's: a test tenant can assign.
    fn kind(&self) -> BackendKind {
        BackendKind::Graph
    }
    async fn list_all(&self) -> Result<Vec<Device>, ApiError> {
        Ok(self.tokens_now())
    }
    async fn find(&self, _: &[(String, String)]) -> Result<Vec<Device>, ApiError> {
        if !self.sent.lock().unwrap().is_empty() {
            self.reads.lock().unwrap().1 += 1;
        }
        Ok(self.tokens_now())
    }
    async fn device_ids_of_user(&self, _: &str) -> Result<Vec<String>, ApiError> {
        Ok(vec![])
    }
    async fn get(&self, d: &Device) -> Result<Option<Device>, ApiError> {
        self.reads.lock().unwrap().0 += 1;
        Ok(self.tokens_now().into_iter().find(|x| x.token.serial == d.token.serial))
    }
    async fn activate(&self, w: CodeWrite<'_>) -> Result<(), ApiError> {
        let sent = Sent { at_ms: self.clock.now_ms(), serial: w.device.token.serial.clone(), code: w.code.into() };
        self.sent.lock().unwrap().push(sent.clone());
        tokio::time::sleep(self.delay).await;
        (self.answer)(&sent)
    }
    async fn assign_and_activate(&self, w: CodeWrite<'_>) -> Result<(), ApiError> {
        self.activate(w).await
    }
}
