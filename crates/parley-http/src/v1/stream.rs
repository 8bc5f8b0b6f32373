//! `GET /api/v1/stream`: the acting organization's events as server-sent events, as they
//! are written (`conversations:read`). Each event's `id` is the event id, its `event` the
//! type (`inboundMessage`, `deliveryReport`…) and its data the webhook envelope. A
//! comment every 15 seconds keeps idle connections open through proxies.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use parley_domain::EventEnvelope;

use crate::AppState;
use crate::caller::Caller;
use crate::problem::{ApiError, ProblemResponses};

/// Live events of the organization (server-sent events).
#[utoipa::path(get, operation_id = "stream_events", path = "/stream", tag = "conversations",
    responses((status = 200, content_type = "text/event-stream", description = "One event per outbox event: `id` the event id, `event` its type, `data` the webhook envelope."),
        ProblemResponses))]
pub async fn stream(
    State(state): State<AppState>,
    Caller(access): Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let events = state.app.subscribe_live(&access)?;
    let stream = futures_util::stream::unfold(events, |mut events| async move {
        let event = events.next().await?;
        let envelope = EventEnvelope::from(&*event);
        let sse = Event::default()
            .id(event.id.to_string())
            .event(event.event_type.as_str())
            .json_data(&envelope)
            .unwrap_or_else(|_| Event::default().comment("an event could not be written"));
        Some((Ok(sse), events))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
