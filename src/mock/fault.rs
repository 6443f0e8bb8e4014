//! Faults for testing a client's resilience: a reset connection, a connection closed with no
//! answer, and a 200 whose JSON is cut short.

use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::body::BodyStream;
use actix_web::web::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    ConnectionReset,
    EmptyResponse,
    MalformedJson,
}

impl Fault {
    pub(crate) const ALL: [Fault; 3] = [
        Self::ConnectionReset,
        Self::EmptyResponse,
        Self::MalformedJson,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ConnectionReset => "connection-reset",
            Self::EmptyResponse => "empty-response",
            Self::MalformedJson => "malformed-json",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The answer that produces the fault. `connection` is the request's TCP connection;
    /// `success_body` is the operation's documented success body, cut short for
    /// `malformed-json`.
    pub(crate) fn respond(
        self,
        connection: Option<&Connection>,
        success_body: &str,
    ) -> HttpResponse {
        match self {
            Self::MalformedJson => {
                let cut = success_body
                    .char_indices()
                    .map(|(i, _)| i)
                    .nth(success_body.chars().count() / 2)
                    .unwrap_or(0);
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(success_body[..cut].to_owned())
            }
            Self::ConnectionReset | Self::EmptyResponse => {
                if self == Self::ConnectionReset
                    && let Some(connection) = connection
                {
                    // With a zero linger time, closing the socket sends RST instead of FIN.
                    if let Err(error) = connection.reset_on_close() {
                        tracing::warn!("cannot arrange a connection reset: {error}");
                    }
                }
                // A body that fails before its first byte makes the server drop the
                // connection without writing the response head.
                HttpResponse::Ok().body(BodyStream::new(futures_util::stream::once(async {
                    Err::<Bytes, _>(std::io::Error::other("fault injected by rocketchat-mock"))
                })))
            }
        }
    }
}

/// A client's TCP connection, by its file descriptor, kept in the connection's data so that
/// a fault can reset it. Not a duplicate of the socket (`dup`): that would hold a second
/// descriptor per connection, and halve how many clients the process can serve before
/// `ulimit -n` locks everyone out.
pub(crate) struct Connection(#[cfg(unix)] std::os::fd::RawFd);

impl Connection {
    /// For `HttpServer::on_connect`.
    pub(crate) fn attach(io: &dyn std::any::Any, data: &mut actix_web::dev::Extensions) {
        #[cfg(unix)]
        if let Some(stream) = io.downcast_ref::<actix_web::rt::net::TcpStream>() {
            use std::os::fd::AsRawFd;
            data.insert(Connection(stream.as_raw_fd()));
        }
    }

    /// Makes the connection's close send RST instead of FIN.
    fn reset_on_close(&self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            // SAFETY: the descriptor is the socket of the connection this request is being
            // served on. The connection's data (this value) lives in that connection's
            // dispatcher, which owns the socket and closes it only when it is dropped, and
            // a request's handler runs inside the dispatcher: while it runs, the
            // descriptor is open and is this socket.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(self.0) };
            socket2::SockRef::from(&fd).set_linger(Some(Duration::ZERO))
        }
        #[cfg(not(unix))]
        Err(std::io::Error::other(
            "connection resets need a Unix socket",
        ))
    }
}
