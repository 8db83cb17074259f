/** @module `skiff helm …`: the helm command line for the verbs skiff supports. */
import type { Command } from 'commander';
import { registerReleaseCommands } from './helm-release.js';

export function registerHelmCommand(program: Command): void {
  const helm = program.command('helm').description('Helm-compatible chart tool');
  registerReleaseCommands(helm);
}
