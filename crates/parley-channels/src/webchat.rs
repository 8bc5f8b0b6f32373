//! Parley's own web chat (`reference/channels.md` §8): the frames the widget and the
//! server exchange over `/webchat/ws`, the visitor token the server signs, the user JWT an
//! organization's site signs, and the allowed-origin check. Pure: the socket, the store
//! and the conversation are `parley-app`'s and `parley-http`'s.

pub mod frames;
pub mod identity;
