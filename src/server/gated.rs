//! A future that is polled again only after it woke the task.
//!
//! A connection's task waits on its socket and on a few rare events at once (its timeout,
//! shutdown, the shutdown timeout's cut-off). `select!` polls every branch whenever the task
//! wakes, and nearly every wake is the socket's: each rare branch would be polled for nothing
//! on every request. [`Gated`] gives its future a waker of its own that notes the wake, and
//! skips the poll until that waker fired.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// What the inner future's waker does: note the wake, then wake the task.
#[derive(Debug)]
struct Flag {
    woke: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woke.store(true, Ordering::Release);
        self.task.wake();
    }
}

pin_project_lite::pin_project! {
    /// `inner`, polled on its first poll and after its waker fired (or [`Gated::repoll`]).
    pub(crate) struct Gated<F> {
        #[pin]
        inner: F,
        flag: Arc<Flag>,
        waker: Waker,
    }
}

impl<F> Gated<F> {
    pub(crate) fn new(inner: F) -> Self {
        let flag = Arc::new(Flag {
            woke: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(flag.clone());
        Gated { inner, flag, waker }
    }

    /// The inner future, to change it (a timer's deadline); its next poll is not skipped, so
    /// it can register for what changed.
    pub(crate) fn repoll(self: Pin<&mut Self>) -> Pin<&mut F> {
        let this = self.project();
        this.flag.woke.store(true, Ordering::Release);
        this.inner
    }
}

impl<F: Future> Future for Gated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // Registered before the flag is read: a wake in between sets the flag (polled now) or
        // comes after it was cleared (and wakes the task again).
        this.flag.task.register(cx.waker());
        if !this.flag.woke.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        this.inner.poll(&mut Context::from_waker(this.waker))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Pending until `ready`; counts its polls.
    struct Probe {
        polls: Arc<AtomicUsize>,
        ready: Arc<AtomicBool>,
        waker: Arc<std::sync::Mutex<Option<Waker>>>,
    }

    impl Future for Probe {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.ready.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    fn polls_only_after_its_own_wake_and_wakes_the_task() {
        let polls = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let inner_waker = Arc::new(std::sync::Mutex::new(None::<Waker>));
        let gated = Gated::new(Probe {
            polls: polls.clone(),
            ready: ready.clone(),
            waker: inner_waker.clone(),
        });
        let mut gated = std::pin::pin!(gated);
        let task_woke = Arc::new(Flag {
            woke: AtomicBool::new(false),
            task: AtomicWaker::new(),
        });
        let task = Waker::from(task_woke.clone());
        let mut cx = Context::from_waker(&task);
        assert!(gated.as_mut().poll(&mut cx).is_pending());
        assert!(gated.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            polls.load(Ordering::SeqCst),
            1,
            "the second poll was skipped"
        );
        ready.store(true, Ordering::SeqCst);
        inner_waker.lock().unwrap().take().unwrap().wake();
        assert!(task_woke.woke.load(Ordering::SeqCst), "the task was woken");
        assert!(gated.as_mut().poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn repoll_polls_once_more() {
        let polls = Arc::new(AtomicUsize::new(0));
        let gated = Gated::new(Probe {
            polls: polls.clone(),
            ready: Arc::new(AtomicBool::new(false)),
            waker: Arc::new(std::sync::Mutex::new(None)),
        });
        let mut gated = std::pin::pin!(gated);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(gated.as_mut().poll(&mut cx).is_pending());
        let _changed = gated.as_mut().repoll();
        assert!(gated.as_mut().poll(&mut cx).is_pending());
        assert!(gated.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }
}
