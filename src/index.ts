/** `thodare`: the library entry (issue 12). */
export * from './authoring';
