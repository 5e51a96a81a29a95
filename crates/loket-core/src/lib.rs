//! Domain types and rules of Loket. No I/O: everything here is plain data and pure functions,
//! so the rules can be tested exhaustively and reused by every store and adapter.

pub mod assignment;
pub mod calendar;
pub mod conversation;
pub mod erlang;
pub mod ids;
pub mod inhabitants;
pub mod maturity;
pub mod metrics;
pub mod peers;
pub mod role;
pub mod sla;
pub mod staffing;
pub mod stats;
pub mod template;
pub mod tenant;

pub use conversation::{
    Channel, ConversationState, DeliveryState, Direction, Priority, TransitionError,
};
pub use ids::{Email, ParseError, TenantCode};
pub use inhabitants::inhabitants;
pub use role::Role;
pub use tenant::TenantKind;
