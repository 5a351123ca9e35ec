//! Stopping `serve` in order. When the shutdown signal comes (SIGTERM, Ctrl-C),
//! [`Stopping`] tells systemd (`STOPPING=1`) and every part waiting on it at
//! once: the server stops accepting and gives requests in flight a bounded
//! time, while the worker finishes its task or gives it back. `serve_with` then
//! commits the index, writes the counters and closes the database.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use crate::systemd::Notifier;

/// Whether the board is stopping; cheap to clone, every clone sees the same.
#[derive(Clone)]
pub struct Stopping {
    tx: Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Stopping {
    /// Starts stopping when `signal` resolves, telling systemd first.
    pub fn on(
        signal: impl Future<Output = ()> + Send + 'static,
        notifier: Option<Arc<Notifier>>,
    ) -> Stopping {
        let (tx, rx) = watch::channel(false);
        let stopping = Stopping {
            tx: Arc::new(tx),
            rx,
        };
        let trigger = stopping.clone();
        tokio::spawn(async move {
            signal.await;
            if let Some(n) = notifier {
                n.send("STOPPING=1\nSTATUS=stopping: finishing requests");
            }
            trigger.now();
        });
        stopping
    }

    /// Starts stopping now (also when the server ended by itself).
    pub fn now(&self) {
        if !self.tx.send_replace(true) {
            tracing::info!("stopping: no new connections; finishing requests and the running task");
        }
    }

    /// Resolves once stopping has started.
    pub fn started(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_hears_the_signal_once() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let stopping = Stopping::on(
            async move {
                let _ = rx.await;
            },
            None,
        );
        let waiting = tokio::spawn(stopping.clone().started());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        tx.send(()).expect("signal");
        waiting.await.expect("heard");
        // Late listeners hear it too, and stopping again changes nothing.
        stopping.started().await;
        stopping.now();
        stopping.started().await;
    }
}
