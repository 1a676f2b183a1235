/** Printed by the lean worker once it is about to poll: the bench waits for it. */
export const leanWorkerReadyLine = 'lean worker polling';
