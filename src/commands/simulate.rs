//! `oathbulk simulate`: run the fake tenant on loopback until Ctrl-C, SIGTERM or stdin EOF.

use crate::cli::simulate::SimulateArgs;
use crate::record::Record;
use crate::simulate::{SimConfig, Simulator};
use crate::stop::ExitCode;
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;

fn read_secret_file(path: &Path, what: &str) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what} file {}", path.display()))?;
    // As a client reads it (compared as bytes: a no-break space after `Bearer` is no panic),
    // registered with the redactor before it is parsed.
    let s = crate::auth::clean_token(&text);
    if s.is_empty() {
        bail!("{what} file {} is empty", path.display());
    }
    Ok(s)
}

fn config(args: &SimulateArgs) -> Result<SimConfig> {
    let client_secret = args
        .auth
        .client_secret_file
        .as_deref()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read client secret file {}", p.display()))?;
            let s = text.trim().to_string();
            if s.is_empty() {
                bail!("client secret file {} is empty", p.display());
            }
            Ok(s)
        })
        .transpose()?;
    let mut client_certificates = Vec::new();
    for path in &args.auth.client_certificate {
        client_certificates.extend(crate::simulate::registered_from_file(path)?);
    }
    let defaults = SimConfig::default();
    Ok(SimConfig {
        latency_ms: args.faults.latency_ms,
        rate_limit: args.faults.rate_limit,
        rate_limit_reads: args.faults.rate_limit_reads,
        rate_burst: args.faults.rate_burst,
        limits: args.faults.limits.clone(),
        limit_shared: args.faults.limit_shared,
        throttle_hints: args.faults.throttle_hints,
        fail_rate: args.faults.fail_rate,
        drop_rate: args.faults.drop_rate,
        drop_after_share: args.faults.drop_after_share,
        clock_offset_secs: args.faults.clock_offset,
        seed: args.seed.seed,
        page_size_max: args.seed.page_size_max,
        assigned_fraction: args.seed.assigned_fraction,
        activated_fraction: args.seed.activated_fraction,
        expected_token: args.auth.token_file.as_deref().map(|p| read_secret_file(p, "token")).transpose()?,
        expire_token_after_requests: args.auth.expire_token_after,
        forbidden: args.auth.forbidden,
        client_id: args.auth.client_id.clone(),
        client_secret,
        client_certificates,
        issued_token_lifetime_secs: args.auth.issued_token_lifetime,
        quiet: args.quiet,
        device_code_flow: args.auth.device_code_flow.iter().map(|s| s.trim().to_string()).collect(),
        device_code_interval_secs: args.auth.device_code_interval,
        device_code_expires_in_secs: args.auth.device_code_expires_in,
        issued_scopes: args.auth.issued_scopes.clone(),
        issued_roles: args.auth.issued_roles.clone().unwrap_or(defaults.issued_roles),
        issued_wids: match &args.auth.issued_wids {
            Some(w) => w.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            None => defaults.issued_wids,
        },
        issued_audience: args.auth.issued_audience.clone(),
        policy_state: args.tenant.policy_state.clone(),
        bulk_create_fails: args.tenant.bulk_create_fails,
        readings: args.tenant.readings()?,
        record: args.record.clone(),
        ..SimConfig::default()
    })
}

pub fn run(args: SimulateArgs) -> Result<ExitCode> {
    if !args.listen.ip().is_loopback() {
        bail!("--listen {}: the simulator listens on loopback only (127.0.0.0/8 or ::1)", args.listen);
    }
    let config = config(&args)?;
    // Any seed file a command reads (PSKC, a password ZIP, a file without users), one reader.
    let rows = crate::vendor::seed_rows(&args.seed.csv, args.seed.read.options(true), |e| {
        if !args.quiet {
            crate::diag::stderr_line(&format!(
                "oathbulk simulate: line {}: {} ({}): row not seeded",
                e.line, e.message, e.code
            ))
        }
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args, config, rows))
}

async fn serve(args: SimulateArgs, config: SimConfig, rows: Vec<crate::inventory::Row>) -> Result<ExitCode> {
    let quiet = args.quiet;
    let sim = Simulator::start(config, rows, args.listen).await?;
    let ready = sim.ready();
    {
        let line = serde_json::to_string(&Record::Simulator(ready.clone()))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    if !quiet {
        crate::diag::stderr_line(&format!(
            "oathbulk simulate: {} devices, {} users; Graph at {}, portal at {}; stop with Ctrl-C{}",
            ready.devices,
            ready.users,
            ready.graph_url,
            ready.portal_url,
            if args.no_stdin_watch { "" } else { " or by closing stdin" }
        ));
    }
    let reason = wait_for_stop(!args.no_stdin_watch).await;
    if !quiet {
        crate::diag::stderr_line(&format!("oathbulk simulate: {reason}: stopping"));
    }
    let state = sim.shutdown().await;
    if let Some(path) = &args.state_out {
        let json = serde_json::to_vec_pretty(&state)?;
        std::fs::write(path, json).with_context(|| format!("cannot write --state-out {}", path.display()))?;
    }
    Ok(ExitCode::Ok)
}

async fn wait_for_stop(watch_stdin: bool) -> &'static str {
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    if watch_stdin {
        // A plain thread: tokio's stdin would keep the runtime from shutting down.
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin().lock();
            loop {
                match std::io::Read::read(&mut stdin, &mut sink) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            let _ = eof_tx.send(());
        });
    } else {
        drop(eof_tx);
    }
    let eof = async {
        if eof_rx.await.is_err() {
            std::future::pending::<()>().await
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term => "terminated",
        _ = eof => "stdin closed",
    }
}
