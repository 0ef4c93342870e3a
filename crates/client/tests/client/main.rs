//! rbacd-client against the real rbacd server, started in process on a fresh database.

mod checker;
mod connect;
mod reconnect;
mod support;
