#!/usr/bin/env node
// playment-sandbox: runs the sandbox until SIGINT/SIGTERM. Prints one line on start and never
// prints API keys (they may be real-looking values passed in by scripts).
import { parseCliArgs, USAGE } from './cli-args';
import { startSandbox } from './server';

async function main(): Promise<void> {
  let command;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`playment-sandbox: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }

  let sandbox;
  try {
    sandbox = await startSandbox(command.options);
  } catch (error) {
    process.stderr.write(`playment-sandbox: could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`Playment sandbox listening on ${sandbox.url} (storage ${sandbox.storageUrl})\n`);

  const running = sandbox;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
