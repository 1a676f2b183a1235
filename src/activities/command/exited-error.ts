/** Thrown by the command handler when the process exits non-zero or is killed: the attempt fails and may be retried. */
export class CommandExitedError extends Error {
  override readonly name = 'CommandExitedError';
}
