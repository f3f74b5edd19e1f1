//! The JavaScript-facing API (wasm only).
