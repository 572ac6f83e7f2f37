// /_sandbox/* endpoints so a driver in another process (benchmarks, demos) can inject faults and
// read counters. No API key needed; these requests are not counted as API traffic.
import { failure, plainJson, type Reply } from './reply';
import type { ControlAction } from './router';
import type { SandboxRuntime } from './runtime';
import { parseJsonObject } from './validate';

export function handleControl(runtime: SandboxRuntime, action: ControlAction, body: Buffer): Reply {
  switch (action) {
    case 'add-fault': {
      const parsed = parseJsonObject(body);
      if (!parsed.ok) return failure(400, parsed.code, parsed.message);
      try {
        runtime.faults.add(parsed.value);
      } catch (error) {
        return failure(400, 'GE_0001', (error as Error).message);
      }
      return plainJson(200, { queued: runtime.faults.pending });
    }
    case 'clear-faults':
      return plainJson(200, { cleared: runtime.faults.clear() });
    case 'state':
      return plainJson(200, runtime.summary());
    case 'reset':
      runtime.reset();
      return plainJson(200, { reset: true });
  }
}
