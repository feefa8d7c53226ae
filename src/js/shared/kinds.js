// What a session call moves: the core's Transfer numbers (src/core/events.rs).
// A module of its own so the wx glue can name them without the session.
export const REQUEST = 0, UPLOAD = 1, DOWNLOAD = 2;
