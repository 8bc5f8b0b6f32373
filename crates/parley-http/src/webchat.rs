//! The web chat's two doors (SPEC §5, §7): `GET /widget.js`, the widget an organization
//! embeds (plain JavaScript of our own, `assets/widget.js`), and `GET /webchat/ws?channel=…`,
//! its WebSocket. The frames are `parley_channels::webchat::frames`; who may connect and
//! what they see is `parley_app::conversations::webchat`.
//!
//! The upgrade is refused before any frame: 404 for an unknown or disabled channel, 403
//! when the page's `Origin` is not one of the channel's `allowed_origins`. Then:
//! * the first frame must be `hello`, within 10 seconds; a refused user JWT gets an error
//!   frame and the socket closes with 4401;
//! * a frame that cannot be read gets `bad_frame` naming the field, and the socket stays;
//! * a visitor writing faster than `parley-app` allows gets `rate_limited` (the message is
//!   not taken; the widget keeps it to resend);
//! * the server pings every 25 seconds, so proxies keep the socket open.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, header};
use parley_app::conversations::webchat::{
    ClientFrame, Line, LineWay, ServerFrame, WebchatRefusal, WebchatVisitor, frames,
};
use parley_app::{App, AppError};
use parley_domain::Channel;
use serde::Deserialize;

use crate::AppState;
use crate::problem::{ApiError, ProblemType};

/// The widget.
const WIDGET: &str = include_str!("../assets/widget.js");
/// How long a socket may take to say who it is.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(25);
/// Message ids a socket remembers (to skip what it already sent, and to check acks).
const REMEMBERED: usize = 1_000;

/// The close code for a refused identity.
const CLOSE_UNAUTHENTICATED: u16 = 4401;

/// The routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(widget))
        .route("/webchat/ws", get(socket))
}

async fn widget() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        WIDGET,
    )
}

#[derive(Deserialize)]
struct SocketQuery {
    channel: Option<String>,
}

async fn socket(
    State(state): State<AppState>,
    Query(query): Query<SocketQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let Some(channel) = query.channel.filter(|c| !c.is_empty()) else {
        return Err(ApiError::fields(vec![parley_app::FieldError::new(
            "channel",
            "the channel's id is required",
        )]));
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(ProblemType::Forbidden, "a web-chat socket needs an Origin")
        })?;
    let channel = state.app.webchat_admit(&channel, origin).await?;
    let app = state.app.clone();
    Ok(upgrade
        .max_message_size(frames::MAX_FRAME_BYTES)
        .max_frame_size(frames::MAX_FRAME_BYTES)
        .on_upgrade(move |ws| async move {
            Session::run(app, channel, ws).await;
        }))
}

/// One connected page.
struct Session {
    app: App,
    ws: WebSocket,
    /// Ids of lines this socket was shown or wrote, oldest first.
    remembered: VecDeque<String>,
    known: HashSet<String>,
    /// Of those, the replies (the only ones the page may acknowledge).
    replies: HashSet<String>,
}

impl Session {
    async fn run(app: App, channel: Channel, ws: WebSocket) {
        let mut session = Session {
            app,
            ws,
            remembered: VecDeque::new(),
            known: HashSet::new(),
            replies: HashSet::new(),
        };
        let Some(mut visitor) = session.hello(channel).await else {
            return;
        };
        let mut feed = session.app.webchat_follow(&visitor);
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                frame = session.ws.recv() => {
                    let text = match frame {
                        Some(Ok(WsMessage::Text(text))) => text,
                        Some(Ok(WsMessage::Binary(_))) => {
                            session.send(&ServerFrame::error("bad_frame", "frame: send JSON text frames")).await;
                            continue;
                        }
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                        Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                    };
                    session.take(&mut visitor, text.as_str()).await;
                    if let Some(contact) = visitor.contact {
                        feed.follow_contact(contact);
                    }
                }
                line = feed.next() => {
                    let Some(line) = line else { break };
                    if session.remember(&line) {
                        session.send(&ServerFrame::Message(line)).await;
                    }
                }
                _ = ping.tick() => {
                    if session.ws.send(WsMessage::Ping(Default::default())).await.is_err() {
                        break;
                    }
                }
            }
        }
    }

    /// Waits for `hello` and answers it; `None` when the socket is to close.
    async fn hello(&mut self, channel: Channel) -> Option<WebchatVisitor> {
        let first = tokio::time::timeout(HELLO_WITHIN, self.ws.recv()).await;
        let Ok(Some(Ok(WsMessage::Text(text)))) = first else {
            self.close(1008, "say hello first").await;
            return None;
        };
        let (visitor_token, user_token) = match frames::parse(text.as_str()) {
            Ok(ClientFrame::Hello {
                visitor_token,
                user_token,
            }) => (visitor_token, user_token),
            Ok(_) => {
                self.send(&ServerFrame::error(
                    "bad_frame",
                    "type: the first frame must be hello",
                ))
                .await;
                self.close(1008, "say hello first").await;
                return None;
            }
            Err(e) => {
                self.send(&ServerFrame::error("bad_frame", e.to_string()))
                    .await;
                self.close(1008, "say hello first").await;
                return None;
            }
        };
        let answer = self
            .app
            .webchat_hello(channel, visitor_token.as_deref(), user_token.as_deref())
            .await;
        match answer {
            Ok(Ok((visitor, history))) => {
                for line in &history {
                    self.remember(line);
                }
                self.send(&ServerFrame::Welcome {
                    visitor_token: visitor.visitor_token.clone(),
                    history,
                })
                .await;
                Some(visitor)
            }
            Ok(Err(refusal)) => {
                let code = match refusal {
                    WebchatRefusal::UserToken(_) => "user_token_invalid",
                    WebchatRefusal::NoIdentitySecret => "identity_not_configured",
                };
                self.send(&ServerFrame::error(code, refusal.to_string()))
                    .await;
                self.close(CLOSE_UNAUTHENTICATED, code).await;
                None
            }
            Err(e) => {
                self.send(&failure(&e)).await;
                self.close(1011, "try again later").await;
                None
            }
        }
    }

    /// Takes one frame after `hello`.
    async fn take(&mut self, visitor: &mut WebchatVisitor, text: &str) {
        match frames::parse(text) {
            Err(e) => {
                self.send(&ServerFrame::error("bad_frame", e.to_string()))
                    .await
            }
            Ok(ClientFrame::Hello { .. }) => {
                self.send(&ServerFrame::error("bad_frame", "type: hello comes once"))
                    .await;
            }
            Ok(ClientFrame::Message { text, client_id }) => {
                match self.app.webchat_say(visitor, &text, &client_id).await {
                    Ok(Some(line)) => {
                        self.remember(&line);
                        self.send(&ServerFrame::Message(line)).await;
                    }
                    Ok(None) => {
                        self.send(&ServerFrame::error(
                            "rate_limited",
                            "more than 5 messages at once or one a second; resend later",
                        ))
                        .await;
                    }
                    Err(e) => self.send(&failure(&e)).await,
                }
            }
            Ok(ClientFrame::Received { id } | ClientFrame::Read { id })
                if !self.replies.contains(&id) =>
            {
                self.send(&ServerFrame::error(
                    "bad_frame",
                    "id: not a reply shown on this page",
                ))
                .await;
            }
            Ok(ClientFrame::Received { id }) => self.seen(visitor, &id, false).await,
            Ok(ClientFrame::Read { id }) => self.seen(visitor, &id, true).await,
        }
    }

    async fn seen(&mut self, visitor: &WebchatVisitor, id: &str, read: bool) {
        if let Err(e) = self.app.webchat_seen(visitor, id, read).await {
            self.send(&failure(&e)).await;
        }
    }

    /// Notes a line as shown; `false` when it was already.
    fn remember(&mut self, line: &Line) -> bool {
        if !self.known.insert(line.id.clone()) {
            return false;
        }
        if line.direction == LineWay::Outbound {
            self.replies.insert(line.id.clone());
        }
        self.remembered.push_back(line.id.clone());
        if self.remembered.len() > REMEMBERED
            && let Some(old) = self.remembered.pop_front()
        {
            self.known.remove(&old);
            self.replies.remove(&old);
        }
        true
    }

    async fn send(&mut self, frame: &ServerFrame) {
        let _ = self.ws.send(WsMessage::Text(frame.to_text().into())).await;
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let _ = self
            .ws
            .send(WsMessage::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
}

/// The error frame for a failure: the field for invalid input, a code otherwise; never
/// internal text.
fn failure(e: &AppError) -> ServerFrame {
    match e {
        AppError::Invalid(errors) => ServerFrame::error(
            "invalid",
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        AppError::Conflict(parley_app::Conflict::CHANNEL_DISABLED) | AppError::NotFound(_) => {
            ServerFrame::error("channel_unavailable", "the chat is closed for now")
        }
        AppError::Unavailable(_) => {
            tracing::warn!(error = %e, "web chat: the store is busy");
            ServerFrame::error("unavailable", "busy; try again in a moment")
        }
        other => {
            tracing::error!(error = ?other, "web chat failure");
            ServerFrame::error("internal", "something went wrong; try again")
        }
    }
}
