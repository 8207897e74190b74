//! Bounds on concurrent database reads: at most `jobs` databases at once, and at most `per_server` of them on any one
//! database server (many deployments put every cell's database on one Galera cluster, where parallel full scans of
//! the instances tables compete with the cloud's own traffic).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Databases read at the same time unless `--jobs` says otherwise.
pub const DEFAULT_JOBS: usize = 8;
/// Databases read at the same time on one server unless `--jobs-per-server` says otherwise.
pub const DEFAULT_PER_SERVER: usize = 1;

#[derive(Debug)]
pub struct ReadLimits {
    global: Arc<Semaphore>,
    per_server: usize,
    servers: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Held while one database is read; dropping it lets the next read start.
pub struct ReadPermit {
    _server: Option<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
}

impl ReadLimits {
    /// `jobs` and `per_server` of 0 are treated as 1.
    pub fn new(jobs: usize, per_server: usize) -> Self {
        ReadLimits {
            global: Arc::new(Semaphore::new(jobs.max(1))),
            per_server: per_server.max(1),
            servers: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot on `server` first, then a global one, so that a read waiting for a busy server
    /// never holds a global slot another server could use.
    pub async fn acquire(&self, server: Option<&str>) -> ReadPermit {
        let sem = server.map(|s| {
            let mut map = self.servers.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(s.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_server)))
                .clone()
        });
        let server_permit = match sem {
            Some(s) => s.acquire_owned().await.ok(),
            None => None,
        };
        let global = self.global.clone().acquire_owned().await.ok();
        ReadPermit {
            _server: server_permit,
            _global: global,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Runs `n` reads on the given servers and returns the most that ever ran at once, overall and on server "a".
    async fn peak(limits: ReadLimits, servers: &[&str]) -> (usize, usize) {
        let limits = Arc::new(limits);
        let now = Arc::new(AtomicUsize::new(0));
        let now_a = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let max_a = Arc::new(AtomicUsize::new(0));
        let tasks = servers.iter().map(|s| {
            let (limits, now, now_a, max, max_a) = (
                limits.clone(),
                now.clone(),
                now_a.clone(),
                max.clone(),
                max_a.clone(),
            );
            let s = s.to_string();
            async move {
                let _p = limits.acquire(Some(&s)).await;
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                if s == "a" {
                    let n = now_a.fetch_add(1, Ordering::SeqCst) + 1;
                    max_a.fetch_max(n, Ordering::SeqCst);
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                if s == "a" {
                    now_a.fetch_sub(1, Ordering::SeqCst);
                }
                now.fetch_sub(1, Ordering::SeqCst);
            }
        });
        futures::future::join_all(tasks).await;
        (max.load(Ordering::SeqCst), max_a.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn reads_are_bounded_overall_and_per_server() {
        let servers = ["a", "a", "a", "b", "c", "d", "e", "a"];
        assert_eq!(peak(ReadLimits::new(3, 1), &servers).await, (3, 1));
        assert_eq!(peak(ReadLimits::new(8, 2), &servers).await.1, 2);
        // 0 means 1, never a deadlock.
        assert_eq!(peak(ReadLimits::new(0, 0), &servers).await, (1, 1));
    }
}
