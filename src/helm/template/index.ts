/**
 * @module Go's text/template in TypeScript: TemplateSet (parse/execute with Go's semantics
 * and messages), the Go value model and Go's fmt.
 */
export { TemplateSet, TemplateError, type MissingKey, type TemplateSetOptions } from './template.js';
export { maxExecDepth } from './exec.js';
export { htmlEscape, jsEscape, queryEscape } from './builtins.js';
export * from './values.js';
export * from './fmt.js';
