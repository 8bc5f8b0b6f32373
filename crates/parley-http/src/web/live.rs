//! `GET /app/{org}/live`: the desk's live notices, as server-sent events. Each event is
//! `conversation` with a conversation's id as its data: something about a conversation the
//! person may see just changed (a message, a delivery report, an assignment…). The page
//! then reads the page again through the same checks as any page and swaps in what
//! changed; after a lost connection it does the same once it is back, which is its
//! catch-up (ADR 0010). A comment every 15 seconds keeps idle connections open.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use parley_domain::OrgId;

use super::pages::PageError;
use super::session::{Session, Viewer};
use crate::AppState;

/// `GET /app/{org}/live`.
pub(crate) async fn live(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let feed = state.app.subscribe_desk(&viewer.access)?;
    let app = state.app.clone();
    let stream = futures_util::stream::unfold((app, feed), |(app, mut feed)| async move {
        let id = app.next_desk_change(&mut feed).await?;
        let event = Event::default().event("conversation").data(id.to_string());
        Some((Ok(event), (app, feed)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
