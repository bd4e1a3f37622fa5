//! `litmus-server`: reads its settings (flags over environment, see `--help`), opens the store
//! (embedded SQLite by default, PostgreSQL when `DATABASE_URL` is set) and the cache
//! (in-process, or Redis when `REDIS_URL` is set), serves until Ctrl-C or SIGTERM, then
//! finishes the requests in flight.

use std::sync::Arc;

/// mimalloc instead of glibc's allocator: ingestion allocates and frees millions of small
/// strings and maps a second from two threads, where glibc's malloc and free took about 30%
/// of the server's samples (`perf record` on the server under
/// `STORES=postgres METRICS=10 bash benches/server/ingest.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (the `libmimalloc-sys` pinned in
/// Cargo.lock builds mimalloc 3), whose default is 10 (ms).
const MI_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes mimalloc give freed pages back to the OS at once rather than 10 ms later, so the
/// resident memory follows what the server holds (the soak's flat-memory check, and
/// operators watching RSS) at the cost of a few more `madvise` calls. Only when the option at
/// that index has purge_delay's default, so a mimalloc whose options moved is left alone.
#[allow(unsafe_code)]
fn purge_freed_memory_at_once() {
    // SAFETY: mi_option_get and mi_option_set read and write one slot of mimalloc's option
    // table; any index below `_mi_option_last` (over 30 in every mimalloc 3) is valid, and
    // options may be set at any time.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_PURGE_DELAY) == 10 {
            libmimalloc_sys::mi_option_set(MI_PURGE_DELAY, 0);
        }
    }
}

/// Turns transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` is set (then
/// mimalloc does as it says). mimalloc asks for them on its arenas, and a 2 MiB page is
/// resident as soon as one byte of it is touched: the server's resident memory then follows
/// the address range it has used rather than what it holds, and freeing pages at once (above)
/// splits them again. With 10,000 idle `/sdk/stream` connections (`benches/server/sse.sh`)
/// each cost 28 KiB of RSS with them and 16 KiB without (12 with `litmus_server::server`'s
/// accept loop); after 10 s of `/assign` and 10 s of `/sdk/config` on 32 connections the
/// server held 128 MiB instead of 190-215, for about 6% fewer `/assign` requests per second
/// (`MIMALLOC_ALLOW_THP=1` keeps them). The pages touched before `main` stay as they are.
#[allow(unsafe_code)]
fn no_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) only sets a flag of the calling process;
    // it takes no pointers. On a kernel without it, it fails with EINVAL and nothing changes.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

use litmus_server::cache::Cache;
use litmus_server::cache::memory::MemoryCache;
use litmus_server::cache::redis::RedisCache;
use litmus_server::settings::Settings;
use litmus_server::state::{AppState, STICKY_CAPACITY, Tuning};
use litmus_server::store::Store;
use litmus_server::store::postgres::PostgresStore;
use litmus_server::store::sqlite::SqliteStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    purge_freed_memory_at_once();
    no_transparent_huge_pages();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        use std::io::Write;
        writeln!(std::io::stdout(), "{}", litmus_server::settings::USAGE)?;
        return Ok(());
    }
    let settings = Settings::read(args, |v| std::env::var(v).ok())?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cache: Arc<dyn Cache> = match &settings.redis_url {
        Some(url) => {
            let redis = RedisCache::connect(
                url,
                &settings.redis_prefix,
                settings.sticky_ttl,
                STICKY_CAPACITY,
            )
            .await?;
            tracing::info!(prefix = %settings.redis_prefix, "cache: redis");
            Arc::new(redis)
        }
        None => Arc::new(MemoryCache::new(STICKY_CAPACITY)),
    };
    match &settings.database_url {
        Some(url) => {
            let store = PostgresStore::connect(url, settings.pg_pool).await?;
            tracing::info!(pool = settings.pg_pool, "store: postgresql");
            serve(store, cache, settings).await
        }
        None => {
            let path = settings.data.join("litmus.sqlite3");
            let store = SqliteStore::open(&path)?;
            tracing::info!(path = %path.display(), "store: embedded sqlite");
            serve(store, cache, settings).await
        }
    }
}

/// Serves the API over `store` and `cache` until a shutdown signal.
async fn serve<S: Store>(
    store: S,
    cache: Arc<dyn Cache>,
    settings: Settings,
) -> Result<(), Box<dyn std::error::Error>> {
    let admin_key = match settings.admin_key {
        Some(k) => k,
        None => {
            let k = litmus_server::keys::random_hex(24)?;
            tracing::warn!(admin_key = %k, "LITMUS_ADMIN_KEY is not set: using this key until restart");
            k
        }
    };
    let tuning = Tuning {
        attribution_window_ms: i64::try_from(settings.attribution_window.as_millis())
            .unwrap_or(i64::MAX),
        ingest_permits: settings.ingest_permits,
        analysis: Arc::new(settings.analysis.clone()),
        people: litmus_server::people::PeopleSettings {
            public_url: settings.public_url.clone(),
            trust_proxy: settings.trust_proxy,
            sso: settings.sso.clone(),
        },
    };
    let state = AppState::build(store, admin_key, cache, tuning);
    litmus_server::jobs::versions::watch_versions(&state, settings.version_poll);
    litmus_server::jobs::usage::flush_usage(&state, std::time::Duration::from_secs(10));
    if settings.rollups {
        litmus_server::jobs::rollups::apply_rollups(&state, std::time::Duration::from_millis(250));
    } else {
        tracing::info!("rollups off: this instance stores events; another applies them");
    }
    litmus_server::jobs::live::run(
        &state,
        std::time::Duration::from_secs(1),
        std::time::Duration::from_millis(100),
    );
    // The demo reweighs its bandit every 10 s, so the dashboard shows it learning.
    let bandit_interval = if settings.demo {
        settings
            .bandit_interval
            .min(std::time::Duration::from_secs(10))
    } else {
        settings.bandit_interval
    };
    litmus_server::jobs::bandits::run(&state, bandit_interval);
    let mut webhooks = litmus_server::jobs::webhooks::Settings::new(
        settings.webhook_policy.clone(),
        settings.public_url.clone(),
    );
    webhooks.retry_scale = settings.webhook_retry_scale;
    litmus_server::jobs::webhooks::run(&state, webhooks);
    if settings.demo {
        litmus_server::demo::start(&state, std::time::Duration::from_millis(250))
            .await
            .map_err(|e| format!("demo: {e}"))?;
        tracing::info!(
            "demo: simulating traffic; open http://{}/dashboard/",
            settings.listen
        );
    }
    if let Some(retention) = settings.retention {
        litmus_server::jobs::retention::retain_events(
            &state,
            retention,
            std::time::Duration::from_secs(3_600),
        );
    }
    litmus_server::service::people::welcome_first_admin(
        &state.access,
        settings.first_admin.clone(),
        &settings.listen,
    )
    .await
    .map_err(|e| format!("first admin: {e}"))?;
    let snapshots = state.snapshots.clone();
    let app = litmus_server::app(state);
    let listener = tokio::net::TcpListener::bind(&settings.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "litmus-server listening");
    // On shutdown the SDK streams end too, so their connections finish and close.
    let stop = async move {
        shutdown().await;
        snapshots.close_streams();
    };
    litmus_server::server::serve(listener, app, stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
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
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
