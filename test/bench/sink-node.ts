/**
 * The `bench-sink` node type: hands every message it receives to the function the bench
 * registered for its id, and keeps nothing itself. Loaded by Node-RED from the user directory's
 * nodesDir, through a one-line file that requires this module.
 */
export type Sink = (msg: any) => void;

const sinks = new Map<string, Sink>();

/** Replaces the functions the next deployed sinks hand their messages to, by node id. */
export function setSinks(byId: Record<string, Sink>): void {
  sinks.clear();
  for (const [id, sink] of Object.entries(byId)) sinks.set(id, sink);
}

export function benchSinkNodes(RED: any): void {
  RED.nodes.registerType('bench-sink', function (this: any, config: any) {
    RED.nodes.createNode(this, config);
    // Looked up once: a message costs one call, as a wire to any other node would.
    const sink = sinks.get(this.id);
    if (sink) this.on('input', sink);
  });
}
