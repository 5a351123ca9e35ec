//! Operating a board: the commands an operator runs beside the server.

/// `jobboard backup DIR` and `jobboard restore DIR`.
pub mod backup;
