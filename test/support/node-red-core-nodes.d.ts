// Node-RED's core node modules ship no types: each exports the function that registers its nodes.
declare module '@node-red/nodes/core/*' {
  import type { NodeInitializer } from 'node-red';
  const register: NodeInitializer;
  export = register;
}
