//! Black-box tests of the whole server: real HTTP on a random port, a database per test, run on
//! SQLite and (with `LOKET_TEST_POSTGRES`) PostgreSQL.

mod helpers;

mod auth;
mod channels;
mod conversations;
mod csat;
mod dashboard;
mod email;
mod inbound;
mod insight;
mod isolation;
mod klantinteracties;
mod nodes;
mod open311;
mod outbox;
mod pools;
mod routing;
mod signalen;
mod summary;
mod widget;
