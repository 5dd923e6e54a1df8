//! The tenant's data: devices, users, counters, and the state transitions both APIs share.

use super::{Counters, DeviceState, SimConfig, SimState, UserState};
use crate::inventory::{normalise, Row};
use crate::otp::{self, HashFunction};
use anyhow::{bail, Result};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Available,
    Assigned,
    Activated,
    FailedActivation,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Available => "available",
            Status::Assigned => "assigned",
            Status::Activated => "activated",
            Status::FailedActivation => "failedActivation",
        }
    }
    /// The member spelled exactly `s` (OData enum members are case-sensitive).
    pub(crate) fn exact(s: &str) -> Option<Status> {
        [Status::Available, Status::Assigned, Status::Activated, Status::FailedActivation]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) serial: String,
    pub(crate) display_name: Option<String>,
    pub(crate) manufacturer: String,
    pub(crate) model: String,
    secret: Vec<u8>,
    pub(crate) period: u32,
    pub(crate) hash: HashFunction,
    pub(crate) status: Status,
    /// Index into `users`.
    pub(crate) assigned: Option<usize>,
    pub(crate) created: u64,
    seeded_as: &'static str,
    activations: u64,
    double: u64,
    rejected: u64,
    last_code_step: Option<u64>,
    /// Deleted from the inventory: kept as a tombstone so indices stay valid.
    pub(crate) deleted: bool,
}

impl Device {
    /// `lastUsedDateTime`: when its last accepted code's step began (Unix seconds). The
    /// simulator fills it on every verified code; Graph fills it unreliably.
    pub(crate) fn last_used_unix(&self) -> Option<u64> {
        self.last_code_step.map(|step| step * u64::from(self.period))
    }
}

/// The real clock at seeding (seeded `used` devices were used a day before it).
fn seeded_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) upn: String,
    pub(crate) display_name: String,
    generated: bool,
    /// Indices of the devices assigned to this user.
    pub(crate) methods: Vec<usize>,
}

/// Why a write was refused; each API maps it onto its own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The device is not one of this user's methods.
    NotUsersMethod,
    AlreadyActivated,
    AssignedToOther,
    AlreadyAssigned,
    TooManyMethods,
    BadCode,
    /// The hardware OATH authentication method policy is disabled.
    PolicyDisabled,
    /// Deactivate: the device is not active.
    NotActivated,
}

/// Why a create, delete, deactivate or unassign was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteRefusal {
    /// A device with this serial exists (its id).
    SerialExists(String),
    Invalid(String),
    UserNotFound(String),
    /// Assign on create refused.
    Assign(Refusal),
    /// Delete: the device is assigned to a user.
    StillAssigned,
}

/// What a client sent to activate a token: the code, when it came (simulator clock), and the
/// name it gives the method, if any. One argument for both ways to activate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeSent<'a> {
    pub code: &'a str,
    pub now: u64,
    pub display_name: Option<&'a str>,
}

/// A device to create (Graph `POST`/bulk `PATCH`, portal upload).
pub(crate) struct NewDevice {
    pub(crate) serial: String,
    pub(crate) secret: Vec<u8>,
    pub(crate) period: u32,
    pub(crate) hash: HashFunction,
    pub(crate) manufacturer: String,
    pub(crate) model: String,
    pub(crate) display_name: Option<String>,
}

/// Device-code sign-in in progress.
pub(crate) struct DeviceCode {
    pub(crate) polls: u32,
    pub(crate) last_poll: Option<Instant>,
    /// Seconds the client must wait between polls (interval + slow_down increments).
    pub(crate) required_gap_secs: u64,
    /// Simulator Unix seconds.
    pub(crate) expires_at: u64,
}

/// A portal CSV upload.
pub(crate) struct Upload {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) uploaded: u64,
    /// `listUploads` calls since the upload; the first reports it in progress.
    pub(crate) polls: u32,
    /// Rows still to apply (applied when the upload completes).
    pub(crate) pending: Vec<(String, NewDevice)>,
    pub(crate) total: usize,
    /// `(line, serial, code, message)`.
    pub(crate) errors: Vec<(u64, String, String, String)>,
    pub(crate) done: bool,
}

pub(crate) struct Tenant {
    pub(crate) devices: Vec<Device>,
    by_id: HashMap<String, usize>,
    by_serial: HashMap<String, usize>,
    pub(crate) users: Vec<User>,
    user_by_id: HashMap<String, usize>,
    user_by_upn: HashMap<String, usize>,
    missing: Vec<String>,
    pub(crate) counters: Counters,
    pub(crate) rng: StdRng,
    /// The write limits (`--limit`, `--rate-limit`), counted from `born`.
    pub(crate) limits: crate::limits::Limits,
    born: Instant,
    /// Tokens this simulator issued → expiry (simulator Unix seconds).
    pub(crate) issued: HashMap<String, u64>,
    /// Refresh tokens issued with device-code sign-ins.
    pub(crate) refresh_tokens: HashMap<String, ()>,
    /// `jti` of every client assertion accepted.
    pub(crate) assertion_ids: std::collections::HashSet<String>,
    /// Device codes handed out.
    pub(crate) device_codes: HashMap<String, DeviceCode>,
    /// `enabled` | `disabled`.
    pub(crate) policy_state: String,
    pub(crate) uploads: Vec<Upload>,
    /// Authenticated requests made with the static token.
    pub(crate) static_uses: u64,
    /// Answers sent (see `SimState::answers`).
    pub(crate) answers: Vec<super::Answered>,
    max_methods: usize,
    window: super::CodeWindow,
}

/// SplitMix64: a stable per-row draw from (seed, serial), independent of row order.
fn unit_draw(seed: u64, serial: &str) -> f64 {
    let mut h: u64 = seed ^ 0x9E37_79B9_7F4A_7C15;
    for b in serial.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// `alice.smith@contoso.com` → `Alice Smith`.
fn display_name_for(upn: &str) -> String {
    let local = upn.split('@').next().unwrap_or(upn);
    local
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Tenant {
    pub(crate) fn new_guid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill_bytes(&mut b);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }

    fn empty(config: &SimConfig) -> Tenant {
        Tenant {
            devices: Vec::new(),
            by_id: HashMap::new(),
            by_serial: HashMap::new(),
            users: Vec::new(),
            user_by_id: HashMap::new(),
            user_by_upn: HashMap::new(),
            missing: Vec::new(),
            counters: Counters::default(),
            rng: StdRng::seed_from_u64(config.seed),
            limits: crate::limits::Limits::new(&config.limit_shapes(), config.limit_shared),
            born: Instant::now(),
            issued: HashMap::new(),
            refresh_tokens: HashMap::new(),
            assertion_ids: Default::default(),
            device_codes: HashMap::new(),
            policy_state: config.policy_state.clone(),
            uploads: Vec::new(),
            static_uses: 0,
            answers: Vec::new(),
            max_methods: config.max_methods_per_user,
            window: config.readings.code_window,
        }
    }

    fn user_for(&mut self, upn: &str, generated: bool) -> usize {
        let key = upn.to_lowercase();
        if let Some(&i) = self.user_by_upn.get(&key) {
            return i;
        }
        let id = self.new_guid();
        let i = self.users.len();
        self.users.push(User {
            id: id.clone(),
            upn: upn.to_string(),
            display_name: display_name_for(upn),
            generated,
            methods: Vec::new(),
        });
        self.user_by_id.insert(id.to_lowercase(), i);
        self.user_by_upn.insert(key, i);
        i
    }

    /// Build the tenant from CSV rows (see the module docs of `simulate` for `sim_state`).
    pub(crate) fn seed(config: &SimConfig, rows: Vec<Row>) -> Result<Tenant> {
        let mut t = Tenant::empty(config);
        let mut others = 0u64;
        for row in rows {
            // A row without a user (a PSKC file, Deepnet's CSV) seeds an unassigned token.
            let user = (!row.upn.is_empty()).then(|| t.user_for(&row.upn, false));
            let declared = row
                .extra
                .iter()
                .find(|(h, _)| normalise(h) == "simstate")
                .map(|(_, v)| v.trim().to_ascii_lowercase())
                .filter(|v| !v.is_empty());
            let state: &'static str = match declared.as_deref() {
                None if user.is_none() => "available",
                None => {
                    let r = unit_draw(config.seed, &row.serial);
                    if r < config.activated_fraction {
                        "activated"
                    } else if r < config.activated_fraction + config.assigned_fraction {
                        "assigned"
                    } else {
                        "available"
                    }
                }
                Some("available") => "available",
                Some("assigned") => "assigned",
                Some("activated") => "activated",
                Some("conflict") => "conflict",
                Some("missing") => "missing",
                Some("wrong_secret") => "wrong_secret",
                Some("failed") => "failed",
                Some("used") => "used",
                Some(other) => bail!(
                    "line {}: unknown sim_state '{other}' (expected available, assigned, activated, used, conflict, missing, wrong_secret or failed)",
                    row.line
                ),
            };
            let serial_key = row.serial.to_lowercase();
            if t.by_serial.contains_key(&serial_key) {
                if !config.quiet {
                    eprintln!(
                        "oathbulk simulate: line {}: serial {} seeded already; the row is skipped",
                        row.line, row.serial
                    );
                }
                continue;
            }
            if state == "missing" {
                t.missing.push(row.serial.clone());
                continue;
            }
            let mut secret = row.secret.as_ref().map(|s| s.bytes().to_vec()).unwrap_or_default();
            if secret.is_empty() || state == "wrong_secret" {
                let len = if secret.is_empty() { 20 } else { secret.len() };
                let mut other = vec![0u8; len];
                t.rng.fill_bytes(&mut other);
                if other == secret {
                    other[0] ^= 1;
                }
                secret = other;
            }
            if user.is_none() && !matches!(state, "available" | "wrong_secret") {
                bail!("line {}: sim_state '{state}' needs the row's user, and the row has no upn", row.line);
            }
            let (status, holder) = match (state, user) {
                ("assigned", Some(user)) => (Status::Assigned, Some(user)),
                ("activated" | "used", Some(user)) => (Status::Activated, Some(user)),
                ("failed", Some(user)) => (Status::FailedActivation, Some(user)),
                ("conflict", _) => {
                    others += 1;
                    let domain = row.upn.split_once('@').map_or("contoso.com", |(_, d)| d).to_string();
                    (Status::Assigned, Some(t.user_for(&format!("other-{others}@{domain}"), true)))
                }
                _ => (Status::Available, None),
            };
            let id = t.new_guid();
            let index = t.devices.len();
            t.devices.push(Device {
                id: id.clone(),
                serial: row.serial.clone(),
                display_name: row.display_name.clone(),
                manufacturer: row.manufacturer.clone(),
                model: row.model.clone(),
                secret,
                period: row.time_interval,
                hash: row.hash,
                status,
                assigned: holder,
                created: 0,
                seeded_as: state,
                activations: 0,
                double: 0,
                rejected: 0,
                // `used`: a code verified a day ago, so `lastUsedDateTime` is filled.
                last_code_step: (state == "used")
                    .then(|| seeded_now().saturating_sub(86_400) / u64::from(row.time_interval.max(1))),
                deleted: false,
            });
            if let Some(u) = holder {
                t.users[u].methods.push(index);
            }
            t.by_id.insert(id.to_lowercase(), index);
            t.by_serial.insert(serial_key, index);
        }
        Ok(t)
    }

    pub(crate) fn find_user(&self, key: &str) -> Option<usize> {
        let key = key.to_lowercase();
        self.user_by_id.get(&key).or_else(|| self.user_by_upn.get(&key)).copied()
    }

    pub(crate) fn find_device(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.to_lowercase()).copied()
    }

    pub(crate) fn find_serial(&self, serial: &str) -> Option<usize> {
        self.by_serial.get(&serial.to_lowercase()).copied()
    }

    /// A write (or a read, with `rate_limit_reads`) against the limits: `Err(retry_after_secs)`
    /// when one of them refuses it.
    pub(crate) fn take_limited(&mut self) -> Result<(), u64> {
        let t = self.born.elapsed().as_secs_f64();
        self.limits.take(t)
    }

    /// How long the simulator has been serving.
    pub(crate) fn age(&self) -> std::time::Duration {
        self.born.elapsed()
    }

    /// The tightest limit's headroom now (for throttle hints).
    pub(crate) fn limits_headroom(&mut self) -> Option<crate::limits::Headroom> {
        let t = self.born.elapsed().as_secs_f64();
        self.limits.headroom(t)
    }

    pub(crate) fn roll(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    fn do_assign(&mut self, u: usize, d: usize, now: u64) {
        let dev = &mut self.devices[d];
        dev.assigned = Some(u);
        dev.status = Status::Assigned;
        dev.created = now;
        self.users[u].methods.push(d);
        self.counters.assignments += 1;
    }

    /// Checks shared by assign and assign-and-activate for a device not yet this user's.
    fn check_assignable(&mut self, u: usize, d: usize) -> Result<(), Refusal> {
        match self.devices[d].assigned {
            Some(other) if other != u => {
                self.counters.conflict_attempts += 1;
                Err(Refusal::AssignedToOther)
            }
            Some(_) => Err(Refusal::AlreadyAssigned),
            None if self.users[u].methods.len() >= self.max_methods => Err(Refusal::TooManyMethods),
            None => Ok(()),
        }
    }

    pub(crate) fn assign(&mut self, u: usize, d: usize, now: u64) -> Result<(), Refusal> {
        self.check_assignable(u, d)?;
        self.do_assign(u, d, now);
        Ok(())
    }

    fn verify(&mut self, d: usize, code: &str, now: u64) -> Result<u64, Refusal> {
        let dev = &self.devices[d];
        match otp::verify(&dev.secret, dev.hash, dev.period, now, code, self.window.back, self.window.ahead) {
            Some(verified) => {
                if verified.offset > 0 {
                    self.counters.codes_from_next_step += 1;
                }
                Ok(verified.step)
            }
            None => {
                self.devices[d].rejected += 1;
                self.counters.rejected_codes += 1;
                Err(Refusal::BadCode)
            }
        }
    }

    fn do_activate(&mut self, d: usize, step: u64, display_name: Option<&str>) {
        let dev = &mut self.devices[d];
        dev.status = Status::Activated;
        dev.activations += 1;
        dev.last_code_step = Some(step);
        if let Some(name) = display_name.filter(|n| !n.trim().is_empty()) {
            dev.display_name = Some(name.to_string());
        }
        self.counters.activations += 1;
    }

    fn double(&mut self, d: usize) -> Refusal {
        self.devices[d].double += 1;
        self.counters.double_activation_attempts += 1;
        Refusal::AlreadyActivated
    }

    /// Activate a device the user already holds.
    pub(crate) fn activate(&mut self, u: usize, d: usize, sent: CodeSent<'_>) -> Result<u64, Refusal> {
        match self.devices[d].assigned {
            Some(holder) if holder == u => {}
            // Addressed to a user who does not hold it: refused (404) and untouched. Not a
            // conflict attempt: a client may learn a token is someone else's this way.
            Some(_) => {
                self.counters.foreign_method_writes += 1;
                return Err(Refusal::NotUsersMethod);
            }
            None => return Err(Refusal::NotUsersMethod),
        }
        if self.devices[d].status == Status::Activated {
            return Err(self.double(d));
        }
        self.check_policy()?;
        let step = self.verify(d, sent.code, sent.now)?;
        self.do_activate(d, step, sent.display_name);
        Ok(step)
    }

    fn check_policy(&self) -> Result<(), Refusal> {
        if self.policy_state == "enabled" {
            Ok(())
        } else {
            Err(Refusal::PolicyDisabled)
        }
    }

    /// Assign (if needed) and activate atomically: nothing changes unless the code verifies.
    pub(crate) fn assign_and_activate(&mut self, u: usize, d: usize, sent: CodeSent<'_>) -> Result<u64, Refusal> {
        let dev = &self.devices[d];
        if dev.status == Status::Activated {
            if dev.assigned.is_some_and(|h| h != u) {
                self.counters.conflict_attempts += 1;
            }
            return Err(self.double(d));
        }
        let mine = dev.assigned == Some(u);
        if !mine {
            self.check_assignable(u, d)?;
        }
        self.check_policy()?;
        let step = self.verify(d, sent.code, sent.now)?;
        if !mine {
            self.do_assign(u, d, sent.now);
        }
        self.do_activate(d, step, sent.display_name);
        Ok(step)
    }

    pub(crate) fn note_conflict(&mut self) {
        self.counters.conflict_attempts += 1;
    }

    pub(crate) fn snapshot(&self, listen: &str, tenant_id: &str, now: u64, offset: i64) -> SimState {
        SimState {
            listen: listen.to_string(),
            tenant_id: tenant_id.to_string(),
            now_unix: now,
            clock_offset_secs: offset,
            counters: self.counters.clone(),
            devices: self
                .devices
                .iter()
                .filter(|d| !d.deleted)
                .map(|d| DeviceState {
                    id: d.id.clone(),
                    serial_number: d.serial.clone(),
                    display_name: d.display_name.clone(),
                    manufacturer: d.manufacturer.clone(),
                    model: d.model.clone(),
                    time_interval_in_seconds: d.period,
                    hash_function: d.hash.graph_name().to_string(),
                    status: d.status.as_str().to_string(),
                    assigned_user_id: d.assigned.map(|u| self.users[u].id.clone()),
                    assigned_upn: d.assigned.map(|u| self.users[u].upn.clone()),
                    seeded_as: d.seeded_as.to_string(),
                    activations: d.activations,
                    double_activation_attempts: d.double,
                    rejected_codes: d.rejected,
                    last_code_step: d.last_code_step,
                })
                .collect(),
            users: self
                .users
                .iter()
                .map(|u| UserState {
                    id: u.id.clone(),
                    user_principal_name: u.upn.clone(),
                    display_name: u.display_name.clone(),
                    generated: u.generated,
                })
                .collect(),
            missing_serials: self.missing.clone(),
            policy_state: self.policy_state.clone(),
            deleted_serials: self.devices.iter().filter(|d| d.deleted).map(|d| d.serial.clone()).collect(),
            answers: self.answers.clone(),
        }
    }

    /// Devices in the inventory (not deleted), in creation order.
    pub(crate) fn live(&self, d: usize) -> bool {
        !self.devices[d].deleted
    }

    /// Create a device, optionally assigned to user `assign_to` (index): both or nothing.
    pub(crate) fn create(&mut self, new: NewDevice, assign_to: Option<usize>, now: u64) -> Result<usize, WriteRefusal> {
        if new.serial.trim().is_empty() {
            return Err(WriteRefusal::Invalid("serialNumber is required.".into()));
        }
        if new.secret.is_empty() {
            return Err(WriteRefusal::Invalid("secretKey is required.".into()));
        }
        if !matches!(new.period, 30 | 60) {
            return Err(WriteRefusal::Invalid("timeIntervalInSeconds must be 30 or 60.".into()));
        }
        let key = new.serial.to_lowercase();
        if let Some(&existing) = self.by_serial.get(&key) {
            return Err(WriteRefusal::SerialExists(self.devices[existing].id.clone()));
        }
        if let Some(u) = assign_to {
            if self.users[u].methods.len() >= self.max_methods {
                return Err(WriteRefusal::Assign(Refusal::TooManyMethods));
            }
        }
        let id = self.new_guid();
        let index = self.devices.len();
        self.devices.push(Device {
            id: id.clone(),
            serial: new.serial,
            display_name: new.display_name,
            manufacturer: new.manufacturer,
            model: new.model,
            secret: new.secret,
            period: new.period,
            hash: new.hash,
            status: Status::Available,
            assigned: None,
            created: now,
            seeded_as: "created",
            activations: 0,
            double: 0,
            rejected: 0,
            last_code_step: None,
            deleted: false,
        });
        self.by_id.insert(id.to_lowercase(), index);
        self.by_serial.insert(key, index);
        self.counters.creates += 1;
        if let Some(u) = assign_to {
            self.do_assign(u, index, now);
        }
        Ok(index)
    }

    /// Delete an unassigned device from the inventory.
    pub(crate) fn delete(&mut self, d: usize) -> Result<(), WriteRefusal> {
        if self.devices[d].assigned.is_some() {
            return Err(WriteRefusal::StillAssigned);
        }
        let dev = &mut self.devices[d];
        dev.deleted = true;
        let (id, serial) = (dev.id.to_lowercase(), dev.serial.to_lowercase());
        self.by_id.remove(&id);
        if self.by_serial.get(&serial) == Some(&d) {
            self.by_serial.remove(&serial);
        }
        self.counters.deletes += 1;
        Ok(())
    }

    /// Deactivate user `u`'s active device: back to `assigned`.
    pub(crate) fn deactivate(&mut self, u: usize, d: usize) -> Result<(), Refusal> {
        if self.devices[d].assigned != Some(u) {
            if self.devices[d].assigned.is_some() {
                self.counters.conflict_attempts += 1;
            }
            return Err(Refusal::NotUsersMethod);
        }
        match self.devices[d].status {
            Status::Activated | Status::FailedActivation => {
                self.devices[d].status = Status::Assigned;
                self.counters.deactivations += 1;
                Ok(())
            }
            _ => Err(Refusal::NotActivated),
        }
    }

    /// Remove the method from user `u`: the device returns to `available`.
    pub(crate) fn unassign(&mut self, u: usize, d: usize) -> Result<(), Refusal> {
        if self.devices[d].assigned != Some(u) {
            if self.devices[d].assigned.is_some() {
                self.counters.conflict_attempts += 1;
            }
            return Err(Refusal::NotUsersMethod);
        }
        self.users[u].methods.retain(|&m| m != d);
        let dev = &mut self.devices[d];
        dev.assigned = None;
        dev.status = Status::Available;
        self.counters.unassignments += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_stable_and_spread() {
        assert_eq!(unit_draw(7, "SN1"), unit_draw(7, "SN1"));
        assert_ne!(unit_draw(7, "SN1"), unit_draw(8, "SN1"));
        let below = (0..1000).filter(|i| unit_draw(1, &format!("SN{i}")) < 0.3).count();
        assert!((200..400).contains(&below), "{below}");
    }

    #[test]
    fn a_row_without_a_user_seeds_an_unassigned_token_and_no_user() {
        let row = |upn: &str, serial: &str, state: Option<&str>| Row {
            line: 2,
            upn: upn.into(),
            serial: serial.into(),
            secret: None,
            time_interval: 30,
            hash: crate::otp::HashFunction::Sha1,
            manufacturer: "Acme".into(),
            model: "X".into(),
            display_name: None,
            extra: state.map(|s| vec![(std::sync::Arc::from("sim_state"), s.to_string())]).unwrap_or_default(),
        };
        // Every draw would assign: a row with no user is available whatever the fractions say.
        let config = SimConfig { assigned_fraction: 1.0, ..Default::default() };
        let t = Tenant::seed(&config, vec![row("", "DN1", None), row("a@contoso.com", "S1", None)]).unwrap();
        assert_eq!(t.users.len(), 1, "no user for an empty upn");
        assert_eq!((t.devices[0].status, t.devices[0].assigned), (Status::Available, None));
        assert_eq!(t.devices[1].status, Status::Assigned);
        let err = Tenant::seed(&config, vec![row("", "DN1", Some("activated"))]).err().unwrap().to_string();
        assert!(err.contains("no upn"), "{err}");
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name_for("alice.smith@contoso.com"), "Alice Smith");
        assert_eq!(display_name_for("bob@contoso.com"), "Bob");
    }
}
