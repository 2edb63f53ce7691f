//! The embedded local validator: surfpool's real Solana JSON-RPC server over LiteSVM,
//! offline, with the native Rekam program registered through `rekam-svm`.
//!
//! State lives in `<ledger>/surfnet.sqlite` (surfpool's account database) and survives
//! restarts, like `solana-test-validator --ledger`. Nothing here touches the network
//! beyond the two loopback ports it binds (HTTP RPC and its WebSocket companion).

use std::net::{IpAddr, TcpListener};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Context};
use surfpool_core::runloops::start_local_surfnet_runloop;
use surfpool_core::surfnet::locker::SurfnetSvmLocker;
use surfpool_core::surfnet::svm::{SurfnetSvm, SurfnetSvmConfig};
use surfpool_types::channel::{unbounded, RecvTimeoutError, Sender};
use surfpool_types::{
    BlockProductionMode, RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig,
};

/// Surfpool periodically rebuilds its LiteSVM when a database is configured, which would
/// drop the natively registered program; this interval switches that off.
const GC_INTERVAL_ENV: &str = "SURFPOOL_GARBAGE_COLLECTION_INTERVAL_SLOTS";

#[derive(Debug, Clone)]
pub struct LocalnetOptions {
    pub bind: IpAddr,
    /// RPC port; 0 picks a free one.
    pub rpc_port: u16,
    /// Ledger directory; `None` keeps state in memory only.
    pub ledger: Option<PathBuf>,
    pub slot_time_ms: u64,
    /// The wallet that deploys the preloaded program: its upgrade authority, recorded in
    /// the program's `ProgramData` account, and so the only wallet that may initialize
    /// the deployment (`None`: an immutable program nobody can initialize).
    pub deployer: Option<Pubkey>,
}

pub struct Localnet {
    pub url: String,
    pub ws_url: String,
    commands: Sender<SimnetCommand>,
    runloop: Option<JoinHandle<Result<(), String>>>,
}

fn free_port(bind: IpAddr) -> anyhow::Result<u16> {
    let listener = TcpListener::bind((bind, 0)).context("cannot find a free local port")?;
    Ok(listener.local_addr()?.port())
}

impl Localnet {
    pub fn start(opts: &LocalnetOptions) -> anyhow::Result<Self> {
        if !opts.bind.is_loopback() {
            bail!(
                "the local validator binds loopback addresses only, not {}",
                opts.bind
            );
        }
        // SAFETY: set before any thread reads the environment (the runloop starts below).
        unsafe { std::env::set_var(GC_INTERVAL_ENV, u64::MAX.to_string()) };

        let rpc_port = if opts.rpc_port == 0 {
            free_port(opts.bind)?
        } else {
            opts.rpc_port
        };
        let ws_port = free_port(opts.bind)?;

        let db_url = match &opts.ledger {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create ledger directory {}", dir.display()))?;
                let path = dir.join("surfnet.sqlite");
                Some(
                    path.to_str()
                        .context("ledger path must be valid UTF-8")?
                        .to_string(),
                )
            }
            None => None,
        };
        let (mut svm, events, geyser) = SurfnetSvm::new_with_db(
            db_url.as_deref(),
            SurfnetSvmConfig {
                slot_time: opts.slot_time_ms,
                ..Default::default()
            },
        )
        .map_err(|err| anyhow!("cannot open the ledger: {err}"))?;
        rekam_svm::add_rekam(&mut svm.inner.svm);
        // Every start deploys the program anew, by `deployer`, as `anchor deploy` would.
        let rent = svm
            .inner
            .svm
            .minimum_balance_for_rent_exemption(rekam_svm::PROGRAM_DATA_HEADER);
        let (program_data, account) =
            rekam_svm::program_data_account(&rekam::ID, opts.deployer, 0, rent);
        svm.set_account(&program_data, account)
            .map_err(|err| anyhow!("cannot write the program's ProgramData: {err}"))?;
        let locker = SurfnetSvmLocker::new(svm);

        let config = SurfpoolConfig {
            simnets: vec![SimnetConfig {
                offline_mode: true,
                remote_rpc_url: None,
                slot_time: opts.slot_time_ms,
                block_production_mode: BlockProductionMode::Clock,
                airdrop_addresses: vec![],
                airdrop_token_amount: 0,
                ..Default::default()
            }],
            rpc: RpcConfig {
                bind_host: opts.bind.to_string(),
                bind_port: rpc_port,
                ws_port,
                ..Default::default()
            },
            plugin_config_path: vec![],
            ..Default::default()
        };

        let (commands_tx, commands_rx) = unbounded::<SimnetCommand>();
        let runloop_commands = commands_tx.clone();
        let runloop = std::thread::Builder::new()
            .name("rekam-localnet".into())
            .spawn(move || -> Result<(), String> {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|err| err.to_string())?;
                runtime
                    .block_on(start_local_surfnet_runloop(
                        locker,
                        config,
                        runloop_commands,
                        commands_rx,
                        geyser,
                    ))
                    .map_err(|err| err.to_string())
            })?;

        loop {
            match events.recv_timeout(Duration::from_millis(200)) {
                Ok(SimnetEvent::CoreStarted(_)) => break,
                Ok(SimnetEvent::Aborted(reason)) => bail!("local validator aborted: {reason}"),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) if runloop.is_finished() => {
                    let outcome = runloop
                        .join()
                        .map_err(|_| anyhow!("local validator panicked"))?;
                    bail!("local validator stopped while starting: {outcome:?}");
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    bail!("local validator event channel closed")
                }
            }
        }
        // The event channel is bounded; keep draining it so the runloop never blocks.
        std::thread::Builder::new()
            .name("rekam-localnet-events".into())
            .spawn(move || while events.recv().is_ok() {})?;

        Ok(Self {
            url: format!("http://{}:{rpc_port}", opts.bind),
            ws_url: format!("ws://{}:{ws_port}", opts.bind),
            commands: commands_tx,
            runloop: Some(runloop),
        })
    }

    /// Stops the servers and flushes the ledger.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> anyhow::Result<()> {
        let Some(runloop) = self.runloop.take() else {
            return Ok(());
        };
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        runloop
            .join()
            .map_err(|_| anyhow!("local validator panicked"))?
            .map_err(|err| anyhow!("local validator: {err}"))
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
