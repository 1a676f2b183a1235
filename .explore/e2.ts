import { encodeSearchAttributeIndexedValueType } from "@temporalio/common/lib/search-attributes.js";
import { startTimeSkippingServer } from '../src/temporal/dev-server.js';
import { jobSearchAttributeKeys } from '../src/workflows/search-attributes.js';
const env = await startTimeSkippingServer();
try {
  await env.connection.operatorService.addSearchAttributes({ namespace: 'default',
    searchAttributes: Object.fromEntries(jobSearchAttributeKeys.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])) });
  console.log('ok');
  console.log(JSON.stringify(await env.connection.operatorService.listSearchAttributes({ namespace: 'default' })));
} catch (e) { console.log('err', e); }
await env.teardown();
