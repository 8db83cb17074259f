/** @module `skiff helm …`: the helm command line for the verbs skiff supports. */
import type { Command } from 'commander';

export function registerHelmCommand(program: Command): void {
  program.command('helm').description('Helm-compatible chart tool').allowUnknownOption(true);
}
