// Peak resident memory of the API and the worker processes over the run: it reads what the sampler and
// the kernel recorded while the other scenarios ran, so it comes last. With several processes in a role, each
// figure is the largest of them.
import type { MemoryFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded } from '../stats.js';

export function memory(stack: BenchStack): Promise<ScenarioRun<MemoryFigures>> {
  const peaks = stack.memory();
  return Promise.resolve({
    figures: {
      apiPeakRssMb: rounded(peaks.api.peak),
      workerPeakRssMb: rounded(peaks.worker.peak),
      apiPeakRssDuringScenariosMb: rounded(peaks.api.sampled),
      workerPeakRssDuringScenariosMb: rounded(peaks.worker.sampled),
      apiRssAtStartMb: rounded(peaks.api.atStart),
      workerRssAtStartMb: rounded(peaks.worker.atStart),
    },
    distributions: [],
  });
}
