/**
 * Eclipse Mosquitto as a child process on a free loopback port, from a config file written here
 * (anonymous, no persistence), never the system service. Its log (stderr, unbuffered) tells when
 * it listens and which clients subscribed to what.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { running, stopChild } from '../../src/demo/node-red';
import { HOST, freePort } from '../support/node-red-process';
import { waitFor } from '../support/wait';

export interface Broker {
  url: string;
  port: number;
  /** Everything Mosquitto logged so far. */
  log(): string;
  /** Resolves once `clientId` holds a subscription to `topic` (read from the log). */
  subscribed(clientId: string, topic: string): Promise<void>;
  stop(): Promise<void>;
}

/** Debian installs the broker in /usr/sbin, which is not on every PATH. */
function mosquittoBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']) {
    const candidate = path.join(dir, 'mosquitto');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto)');
}

export function brokerConfig(port: number): string {
  return [
    `listener ${port} ${HOST}`,
    'allow_anonymous true',
    'persistence false',
    // Each instance receives about a third of a burst of thousands before it has submitted any.
    'max_queued_messages 100000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'log_type subscribe',
    '',
  ].join('\n');
}

export async function startBroker(dir: string): Promise<Broker> {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, brokerConfig(port));
  const child: ChildProcess = spawn(mosquittoBinary(), ['-c', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const alive = () => running(child);

  const stop = () => stopChild(child);
  try {
    await waitFor(
      'Mosquitto to listen',
      () => {
        if (!alive()) throw new Error(`mosquitto exited during start-up:\n${output}`);
        return / running$/m.test(output);
      },
      15_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `mqtt://${HOST}:${port}`,
    port,
    log: () => output,
    // Mosquitto logs each granted subscription as "<client id> <qos> <topic>".
    subscribed: async (clientId, topic) => {
      const line = `: ${clientId} 1 ${topic}`;
      await waitFor(`${clientId} to subscribe to ${topic}`, () => output.includes(line), 30_000);
    },
    stop,
  };
}
