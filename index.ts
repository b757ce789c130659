/** weft: the public surface. */
export { GUID, Opcode, ReadyState, CloseCode } from './lib/protocol/constants';
