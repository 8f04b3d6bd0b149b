// The protocol ladder model (see models/protocols/ for its parts).
export { ProtocolSimulation, MESH_MAX_PEERS } from './protocols/model.ts';
