//! `--body-timeout`: a request body that does not arrive in time ends in an error, so that
//! whoever waits for it (the journal, a route) answers 408 instead of holding the
//! connection open for as long as the client trickles bytes.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::rt::time::{Instant, Sleep, sleep_until};
use actix_web::web::Bytes;
use futures_util::Stream;

/// The error a late body ends in; [`is_timeout`] recognises it.
const LATE: &str = "the request body did not arrive within --body-timeout";

/// `payload`, ending in an error once `timeout` has passed since now.
pub(crate) fn bounded(payload: Payload, timeout: Duration) -> Payload {
    if matches!(payload, Payload::None) {
        return payload;
    }
    let deadline = Instant::now() + timeout;
    Payload::Stream {
        payload: Box::pin(Deadline {
            inner: payload,
            deadline,
            timer: None,
            expired: false,
        }),
    }
}

/// Whether a payload error is the deadline's.
pub(crate) fn is_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

struct Deadline {
    inner: Payload,
    deadline: Instant,
    /// Made on the first wait only: a body that is already there costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    LATE,
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
