//! The session behind a trait object (defined in the core, shared by both drivers).

pub(crate) use wsnova_core::session::DynSession as SessionOps;
