/** @module `skiff agent --server URL --token TOKEN`: joins this machine to a cluster as a node. */
import type { Command } from 'commander';

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('join this machine to a cluster as a node')
    .requiredOption('--server <url>', 'the API server URL')
    .requiredOption('--token <token>', 'the join token (<data-dir>/token on the server)')
    .action(() => {
      throw new Error('skiff agent is not implemented yet');
    });
}
