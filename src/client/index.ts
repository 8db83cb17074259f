/**
 * @module The client layer's public surface: the Client contract, informers, the work
 * queue and event recording. Controllers, the scheduler and node agents import only this
 * (and src/api).
 */
export * from './client.js';
export * from './informer.js';
export * from './workqueue.js';
export * from './events.js';
