//! The protocol between the operator commands and init over `RUN/control.sock`.
