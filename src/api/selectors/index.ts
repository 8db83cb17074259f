/**
 * @module Label and field selectors: parsing (with kube's error messages), matching and
 * printing.
 */
export * from './labels.js';
export * from './fields.js';
