//! The backend a command talks to, chosen at run time: one `impl Backend` that hands each call
//! to Graph or the portal, so commands and planners are written once, for `AnyBackend`.

use super::{graph::GraphBackend, portal::PortalBackend};
use super::{ApiError, Backend, BackendKind, CodeWrite, CreateOutcome, Device, NewDevice, UserRef};

pub enum AnyBackend {
    Graph(GraphBackend),
    Portal(PortalBackend),
}

/// `$call` on whichever backend this is.
macro_rules! each {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            AnyBackend::Graph($b) => $call,
            AnyBackend::Portal($b) => $call,
        }
    };
}

impl Backend for AnyBackend {
    fn kind(&self) -> BackendKind {
        each!(self, b => b.kind())
    }
    async fn list_all(&self) -> Result<Vec<Device>, ApiError> {
        each!(self, b => b.list_all().await)
    }
    async fn find(&self, wanted: &[(String, String)]) -> Result<Vec<Device>, ApiError> {
        each!(self, b => b.find(wanted).await)
    }
    async fn name_holders_by_id(&self, devices: &mut [Device]) -> Result<(), ApiError> {
        each!(self, b => b.name_holders_by_id(devices).await)
    }
    async fn device_ids_of_user(&self, upn: &str) -> Result<Vec<String>, ApiError> {
        each!(self, b => b.device_ids_of_user(upn).await)
    }
    async fn get(&self, device: &Device) -> Result<Option<Device>, ApiError> {
        each!(self, b => b.get(device).await)
    }
    async fn activate(&self, w: CodeWrite<'_>) -> Result<(), ApiError> {
        each!(self, b => b.activate(w).await)
    }
    async fn assign_and_activate(&self, w: CodeWrite<'_>) -> Result<(), ApiError> {
        each!(self, b => b.assign_and_activate(w).await)
    }
    async fn policy_state(&self) -> Result<Option<String>, ApiError> {
        each!(self, b => b.policy_state().await)
    }
    async fn create_devices(&self, devices: &[NewDevice]) -> Result<Vec<CreateOutcome>, ApiError> {
        each!(self, b => b.create_devices(devices).await)
    }
    async fn assign(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        each!(self, b => b.assign(upn, device).await)
    }
    async fn deactivate(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        each!(self, b => b.deactivate(upn, device).await)
    }
    async fn unassign(&self, upn: &str, device: &Device) -> Result<(), ApiError> {
        each!(self, b => b.unassign(upn, device).await)
    }
    async fn delete(&self, device: &Device) -> Result<(), ApiError> {
        each!(self, b => b.delete(device).await)
    }
    async fn lookup_user(&self, id_or_upn: &str) -> Result<Option<UserRef>, ApiError> {
        each!(self, b => b.lookup_user(id_or_upn).await)
    }
}
