// Mocha loads this first: the Temporal SDK logs only errors during tests.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('ERROR') });
