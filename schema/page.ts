// What the page's HTML and the server that serves it agree on.

/** Replaced by the server with the newsroom's root fingerprint when it serves the page. */
export const FINGERPRINT_SLOT = '@@TIPLINE_FINGERPRINT@@';
