/**
 * Runs one benchmark task in a fresh Node process (its own heap, RSS and Node-RED runtime):
 * the memory and large-sequence phases, so earlier phases do not skew them (a heap that just
 * ran the throughput phase made planJobs ~30 % slower), and the scale-out runtimes, which must
 * be separate processes. Parent side: runInChild(); child side: the
 * bottom of this file, when started as the entry script.
 */
import { fork } from 'node:child_process';
import path from 'node:path';

export type TaskName = 'memory' | 'scale-out' | 'large' | 'budget-waits' | 'budget-burst' | 'budget-poller';

export interface ChildHandle<T> {
  result: Promise<T>;
}

/** Forks this file with --expose-gc and tsx, sends it the task, resolves with its answer. */
export function runInChild<T>(task: TaskName, args: unknown, timeoutMs: number): ChildHandle<T> {
  const child = fork(__filename, [], {
    // The repository root, where `--import tsx` resolves.
    cwd: path.resolve(__dirname, '..', '..'),
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = new Promise<T>((resolve, reject) => {
    let answered = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${task} child did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: { ok: boolean; value?: T; error?: string }) => {
      answered = true;
      clearTimeout(timer);
      if (m.ok) resolve(m.value as T);
      else reject(new Error(`${task} child failed: ${m.error}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!answered) reject(new Error(`${task} child exited with code ${code} before answering`));
    });
  });
  child.send({ task, args });
  return { result };
}

async function childMain(): Promise<void> {
  const { task, args } = await new Promise<{ task: TaskName; args: unknown }>((resolve) => process.once('message', resolve as never));
  try {
    // Imported here, so the parent never loads what only a child needs.
    const value =
      task === 'memory'
        ? await (await import('./memory')).memoryTask(args as never)
        : task === 'large'
          ? (await import('./large-sequences')).runLargeSequences(args as never)
          : task.startsWith('budget-')
            ? await (await import('./budget')).budgetTask(task, args as never)
            : await (await import('./scale-out')).scaleOutTask(args as never);
    process.send!({ ok: true, value }, () => process.exit(0));
  } catch (err) {
    process.send!({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1));
  }
}

if (require.main === module && process.send) void childMain();
