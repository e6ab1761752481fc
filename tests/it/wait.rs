//! The one way the tests wait: poll a check until it passes, with a deadline. On timeout the test
//! fails naming what it waited for and what the last poll saw, never hanging. `wait_until` is for
//! async tests; `wait_until_blocking` runs the same loop for code on a plain thread (child-process
//! tests, `spawn_blocking`, the Kafka reader).

use std::fmt::Debug;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Pause between two polls.
const EVERY: Duration = Duration::from_millis(100);

/// Polls `check` until it gives `Ok(value)`, and returns the value. `Err(seen)` means "not yet";
/// past `timeout` the last `seen` is in the panic message.
pub async fn wait_until<T, O: Debug>(what: &str, timeout: Duration, check: impl AsyncFnMut() -> Result<T, O>) -> T {
    poll_until(what, timeout, check, async || tokio::time::sleep(EVERY).await).await
}

/// `wait_until` for a blocking `check` on the current thread (sleeps between polls).
pub fn wait_until_blocking<T, O: Debug>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, O>) -> T {
    // Nothing in this future ever suspends (the check is blocking, the pause a thread sleep), so
    // one poll runs it to the end: no executor, and no runtime nesting when a blocking check
    // itself waits (e.g. reading Kafka inside a wait).
    let waiting = pin!(poll_until(what, timeout, async || check(), async || std::thread::sleep(EVERY)));
    match waiting.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("a blocking wait never suspends"),
    }
}

/// `Ok(())` if `condition` holds, else `Err(seen)`: a plain condition as a check.
pub fn holds<O>(condition: bool, seen: O) -> Result<(), O> {
    if condition { Ok(()) } else { Err(seen) }
}

async fn poll_until<T, O: Debug>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Result<T, O>,
    mut pause: impl AsyncFnMut(),
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {seen:?}")
            }
            Err(_) => pause().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_wait_returns_the_value_once_the_check_passes() {
        let mut n = 0;
        let got = wait_until_blocking("n to reach 3", Duration::from_secs(5), || {
            n += 1;
            if n >= 3 { Ok(n * 10) } else { Err(n) }
        });
        assert_eq!((got, n), (30, 3));
    }

    #[test]
    #[should_panic(expected = "waiting for the impossible; last seen: 7")]
    fn a_wait_that_never_passes_names_what_and_the_last_observation() {
        wait_until_blocking("the impossible", Duration::from_millis(250), || holds(false, 7));
    }

    #[actix_rt::test]
    async fn an_async_wait_polls_until_the_check_passes() {
        let mut n = 0;
        wait_until("n to reach 2", Duration::from_secs(5), async || {
            n += 1;
            holds(n >= 2, n)
        })
        .await;
        assert_eq!(n, 2);
    }
}
