/** @module The release verbs of `skiff helm`: install, upgrade, rollback, uninstall, list, history, status, get, test. */
import type { Command } from 'commander';

export function registerReleaseCommands(_helm: Command): void {}
