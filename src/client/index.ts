/** `thodare/client`: the typed HTTP client (issue 12). */
export {};
