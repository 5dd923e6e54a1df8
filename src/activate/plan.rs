//! Planning: tenant state × CSV rows → what each row needs. Read-only; this is all
//! `--dry-run` does. Re-run safety lives here: the tenant's status decides, never memory.

use crate::backend::{Device, DeviceStatus};
use crate::inventory::Row;
use crate::record::{Action, ActivationStatus};
use std::collections::{HashMap, HashSet};

/// The decision for one row.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Nothing to send: the row's result is known now.
    Settled { status: ActivationStatus, device: Option<Device>, code: Option<&'static str>, message: Option<String> },
    /// A write is needed. Where the inventory names the holder only by an id, the write is
    /// the proof of ownership: a backend refuses it with `backend::Refusal::NotUsersMethod` when the
    /// row's user does not hold the token (after the one read that explains it).
    Write { action: Action, device: Device },
}

/// Devices by serial. Serials are matched exactly first, then case-insensitively.
pub struct TenantIndex {
    exact: HashMap<String, Vec<Device>>,
    folded: HashMap<String, Vec<Device>>,
}

impl TenantIndex {
    pub fn new(devices: Vec<Device>) -> Self {
        let mut exact: HashMap<String, Vec<Device>> = HashMap::new();
        let mut folded: HashMap<String, Vec<Device>> = HashMap::new();
        for d in devices {
            folded.entry(d.token.serial.to_lowercase()).or_default().push(d.clone());
            exact.entry(d.token.serial.clone()).or_default().push(d);
        }
        Self { exact, folded }
    }

    pub fn lookup(&self, serial: &str) -> &[Device] {
        self.exact.get(serial).or_else(|| self.folded.get(&serial.to_lowercase())).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// UPNs whose tokens must be read before planning: only where a write cannot be the proof.
/// An active token held by an id the inventory cannot name (Graph names holders by id only,
/// unless the tenant honours `$expand=assignTo`, which gives `owner_upn`):
/// already active for this user, or someone else's? A dry run sends no write to learn from,
/// so it asks for every held token's holder. An assigned token needs no read in a real run:
/// the activation goes to the CSV user's own method, which the tenant refuses unless the user
/// holds it, and the refusal is explained by one read (one request per token in the common case).
pub fn owners_to_resolve(rows: &[Row], index: &TenantIndex, dry_run: bool) -> HashSet<String> {
    let mut need = HashSet::new();
    for row in rows {
        if let [d] = index.lookup(&row.serial) {
            let held = d.status != DeviceStatus::Available;
            if held && (dry_run || d.status == DeviceStatus::Activated) && d.owner_upn.is_none() {
                need.insert(row.upn.to_lowercase());
            }
        }
    }
    need
}

/// Who holds a token, as well as the tenant says it: a UPN, else a display name, else an id.
pub fn holder(device: &Device) -> Option<String> {
    device
        .owner_upn
        .clone()
        .or_else(|| device.token.assigned_to.clone())
        .or_else(|| device.token.assigned_to_id.clone())
}

/// Decide one row. `owned_ids`: device ids each (lower-cased) UPN holds, for Graph.
pub fn plan_row(
    row: &Row,
    index: &TenantIndex,
    owned_ids: &HashMap<String, HashSet<String>>,
    can_assign: bool,
) -> Plan {
    let settled = |status, device: Option<&Device>, code, message: Option<String>| Plan::Settled {
        status,
        device: device.cloned(),
        code,
        message,
    };
    let device = match index.lookup(&row.serial) {
        [] => {
            return settled(
                ActivationStatus::NotFound,
                None,
                Some("not_in_tenant"),
                Some(format!("no token with serial {} in the tenant; import the CSV first", row.serial)),
            )
        }
        [d] => d,
        many => {
            return settled(
                ActivationStatus::Failed,
                None,
                Some("ambiguous_serial"),
                Some(format!("{} tokens in the tenant have serial {}; activate it by hand", many.len(), row.serial)),
            )
        }
    };
    // Some(true/false) when known; None when only the write can tell.
    let owned = match &device.owner_upn {
        Some(owner) => Some(owner.eq_ignore_ascii_case(&row.upn)),
        None => owned_ids
            .get(&row.upn.to_lowercase())
            .map(|ids| ids.iter().any(|id| id.eq_ignore_ascii_case(&device.token.id))),
    };
    let owned_by_row_user = || owned == Some(true);
    let holder = || holder(device);
    match device.status {
        DeviceStatus::Available if can_assign => {
            Plan::Write { action: Action::AssignAndActivate, device: device.clone() }
        }
        DeviceStatus::Available => settled(
            ActivationStatus::Failed,
            Some(device),
            Some("not_assigned"),
            Some("the token is not assigned to a user and this backend cannot assign; use --backend graph".into()),
        ),
        DeviceStatus::Activated if owned_by_row_user() => {
            settled(ActivationStatus::AlreadyActive, Some(device), None, None)
        }
        DeviceStatus::Assigned | DeviceStatus::FailedActivation if owned != Some(false) => {
            Plan::Write { action: Action::Activate, device: device.clone() }
        }
        DeviceStatus::Activated | DeviceStatus::Assigned | DeviceStatus::FailedActivation => settled(
            ActivationStatus::Conflict,
            Some(device),
            Some("assigned_to_other_user"),
            Some(format!(
                "the token is {} to {}, not {}; left untouched",
                if device.status == DeviceStatus::Activated { "active for" } else { "assigned" },
                holder().unwrap_or_else(|| "another user".into()),
                row.upn
            )),
        ),
        DeviceStatus::Unknown => settled(
            ActivationStatus::Failed,
            Some(device),
            Some("unknown_status"),
            Some(format!("the tenant reports status '{}', which oathbulk does not know", device.token.status)),
        ),
    }
}
